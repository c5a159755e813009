"""Data-parallel training through Paddle's own launcher, with one stage command for one CPU and for
eight GPUs::

    python -m stages.dense_train --config models/E/config.json --out models/E/model --metrics metrics/E/train
    # on a machine with GPUs it runs under `python -m paddle.distributed.launch --nproc_per_node N` itself
    # (stages.train, the classification train stage, likewise: both go through :func:`train_staged`)

:func:`processes` says how many processes a config and the machine call for: the recipe's ``train.gpus``
(params) capped by the GPUs present; one on a CPU-only machine, unless ``SLIMZOO_PROCS`` asks for more
(the CPU check that data-parallel training follows one process). With more than one, the stage re-runs
itself under the launcher (:func:`launch`); every worker draws the same batches and takes its rank's
share of each (:func:`shard`), the model is wrapped in ``paddle.DataParallel`` (gradients averaged
across processes, over gloo on CPU, NCCL on GPU), and rank 0 alone logs, scores and writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
#: Environment variable that sets the process count (a positive integer), whatever the machine has.
ENV = "SLIMZOO_PROCS"


def rank_and_size() -> tuple[int, int]:
    """This process's rank and the number of processes (0, 1 outside the launcher)."""
    return int(os.environ.get("PADDLE_TRAINER_ID", 0)), int(os.environ.get("PADDLE_TRAINERS_NUM", 1))


def is_worker() -> bool:
    """Whether this process was started by ``paddle.distributed.launch``."""
    return "PADDLE_TRAINERS_NUM" in os.environ


def processes(config: dict[str, Any]) -> int:
    """How many training processes ``config`` gets here: ``SLIMZOO_PROCS`` if set, else the recipe's
    ``train.gpus`` capped by the GPUs present (one without GPUs).

    Raises:
        ValueError: ``SLIMZOO_PROCS`` is not a positive integer (one line).
    """
    if ENV in os.environ:
        value = os.environ[ENV]
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{ENV}={value!r}: expected a positive number of processes")
        return int(value)
    import paddle

    gpus = paddle.device.cuda.device_count() if paddle.device.is_compiled_with_cuda() else 0
    return max(1, min((config.get("train") or {}).get("gpus") or 1, gpus))


def launch(module: str, argv: list[str], count: int) -> int:
    """Run ``python -m module argv`` as ``count`` processes under ``paddle.distributed.launch``; rank 0's
    output is shown as it runs, and the other ranks' log tails if one fails. Returns the exit code."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    script = ROOT / f"{module.replace('.', '/')}.py"
    with tempfile.TemporaryDirectory(prefix="slimzoo-launch-") as logs:
        cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", str(count),
               "--log_dir", logs, str(script), *argv]
        code = subprocess.run(cmd, env=env).returncode  # in this folder: the config's paths stay valid
        if code:
            for log in sorted(Path(logs).glob("workerlog.*")):
                print(f"--- {log.name} (last lines)", *log.read_text(errors="replace").splitlines()[-5:],
                      sep="\n", file=sys.stderr)
    return code


class LaunchError(Exception):
    """Data-parallel training could not run: a bad ``SLIMZOO_PROCS``, or the workers failed."""


def train_staged(module: str, args: Any, config: dict[str, Any],
                 train: Callable[[dict, Path, Path], dict]) -> dict[str, Any]:
    """Run a train stage's ``train(config, out, metrics)`` into staged outputs (stages/zoo/io.py), in
    this process or as :func:`processes` launched workers of ``python -m module`` (``args``: the
    stage's ``--config``, ``--out``, ``--metrics``). A launched worker trains into the folders it was given.

    Returns:
        Rank 0's figures (its train.json); empty in a worker.

    Raises:
        LaunchError: A bad ``SLIMZOO_PROCS``, or the workers failed (their log tails are printed).
    """
    import json

    from .io import staged_dirs

    if is_worker():  # the launching stage staged the folders
        train(config, args.out, args.metrics)
        return {}
    try:
        count = processes(config)
    except ValueError as err:
        raise LaunchError(err) from None
    with staged_dirs(args.out, args.metrics) as (out, metrics):
        if count == 1:
            return train(config, out, metrics)
        if launch(module, ["--config", str(args.config), "--out", str(out), "--metrics", str(metrics)], count):
            raise LaunchError(f"{count} training processes failed (their logs above)")
        return json.loads((metrics / "train.json").read_text(encoding="utf-8"))


def wrap(model: Any) -> Any:
    """``model`` itself in one process; in several, ``paddle.DataParallel(model)`` after joining the group."""
    if rank_and_size()[1] == 1:
        return model
    import paddle
    import paddle.distributed as dist

    dist.init_parallel_env()
    return paddle.DataParallel(model)


def shard(batch: Any) -> Any:
    """This rank's share of a batch (every ``size``-th sample from ``rank``): arrays sliced along their
    first axis, through tuples, lists and dicts; the whole batch in one process."""
    rank, size = rank_and_size()
    if size == 1:
        return batch
    if isinstance(batch, dict):
        return {k: shard(v) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(shard(v) for v in batch)
    return batch[rank::size]


def mean(value: float) -> float:
    """``value`` averaged over the processes (each rank's loss on its share -> the batch's loss)."""
    size = rank_and_size()[1]
    if size == 1:
        return value
    import paddle
    import paddle.distributed as dist

    total = paddle.to_tensor([value], dtype="float32")
    dist.all_reduce(total)
    return float(total) / size
