"""Stage `det_train@<entry>` / `seg_train@<entry>`: train a detection or segmentation baseline on its
profile's data (the task's package: stages/zoo/tasks.py).

    python -m stages.dense_train --config models/ENTRY/config.json --out models/ENTRY/model \
        --metrics metrics/ENTRY/train

Reads the resolved config (stage resolve). Writes ``--out``: model.pdparams, model.json (what the
task's ``models.load`` needs) and config.json; ``--metrics``: the dvclive curves and train.json (the
trained model's val scores, with provenance). Outputs appear only when training finished.

With GPUs (or ``SLIMZOO_PROCS=N``) the same command trains data-parallel: it re-runs itself as N processes
under ``paddle.distributed.launch`` (stages/zoo/distributed.py), and rank 0 writes the outputs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from stages.train import WeightsError, initialise, parse, weights_key
from stages.zoo.io import write_json


def train(config: dict, out: Path, metrics: Path) -> dict:
    """Train the entry of ``config`` and write its outputs; returns the final figures."""
    import numpy as np
    import paddle

    from stages.zoo import distributed
    from stages.zoo.cls.fit import schedule_kind
    from stages.zoo.provenance import provenance
    from stages.zoo.tasks import package

    task = package(config["task"])
    paddle.seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    train_set, val_set = task.data.split(config, "train"), task.data.split(config, "val")
    model, info = task.models.build(config["arch"]), task.models.describe(config["arch"])
    loaded = initialise(model, config["run"].get("weights"))
    start = time.perf_counter()
    losses = task.fit.fit(model, train_set, config["run"], schedule_kind(config), info, rng, metrics / "plots")
    if distributed.rank_and_size()[0]:  # rank 0 scores and writes
        return {}
    model.eval()
    with paddle.no_grad():
        run = lambda x: [o.numpy() for o in model(paddle.to_tensor(x))]  # noqa: E731
        scores = task.evaluate.score(val_set, task.evaluate.predict(run, val_set, info))
    paddle.save(model.state_dict(), str(out / "model.pdparams"))
    write_json(out / "model.json", info)
    write_json(out / "config.json", config)
    figures = {**scores, "train_loss": losses[-1], "epochs": config["run"]["epochs"],
               "train_images": len(train_set), "val_images": len(val_set),
               "seconds": round(time.perf_counter() - start, 1), **loaded, **provenance(config["threads"]),
               **({"processes": distributed.rank_and_size()[1]} if distributed.is_worker() else {})}
    write_json(metrics / "train.json", figures)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Train one detection or segmentation baseline.

    Returns:
        0 on success, 1 on a bad config or dataset (one line on stderr).
    """
    args, config = parse(argv, __doc__, "folder for curves and figures")
    from stages.zoo import distributed
    from stages.zoo.datasets import DatasetError
    from stages.zoo.tasks import PACKAGES, package

    if config["task"] not in PACKAGES or config["base"] is not None:
        print(f"{args.config}: entry '{config['name']}': key 'task': this stage trains "
              f"{', '.join(PACKAGES)} baselines", file=sys.stderr)
        return 1
    task = package(config["task"])
    try:
        figures = distributed.train_staged("stages.dense_train", args, config, train)
    except (DatasetError, task.models.UnsupportedArch, WeightsError, distributed.LaunchError) as err:
        print(f"{args.config}: entry '{config['name']}': {weights_key(err)}{err}", file=sys.stderr)
        return 1
    if not figures:  # a launched worker: rank 0 reports
        return 0
    shown = " ".join(f"{k} {figures[k]:.2f}" for k in task.measure.HEADLINE if k in figures)
    print(f"trained {config['name']}: {shown} in {figures['seconds']} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
