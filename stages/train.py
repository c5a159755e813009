"""Stage `train@<entry>`: train a classification baseline on its profile's data.

    python -m stages.train --config models/ENTRY/config.json --out models/ENTRY/model \
        --metrics metrics/ENTRY/train

Reads the resolved config (stage resolve). Writes ``--out``: model.pdparams, model.json (the
PaddleClas constructor and input) and config.json (the resolved config, beside the weights);
``--metrics``: the dvclive folder with the training curves (``dvc plots show``) and train.json
(final figures with provenance). Deterministic for a seed and a thread count. Data-parallel on GPUs
(or with ``SLIMZOO_PROCS=N``) through ``paddle.distributed.launch``, as stages/dense_train.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import write_json


class WeightsError(Exception):
    """Weights that cannot be read or fit no tensor; the message says why, and the caller names its
    params key (``run.weights``, or det_pretrain's ``pretrain.<backbone>``)."""


#: The old static-graph downloads (the seeds' links): archives of one file per variable.
ARCHIVES = (".tar", ".tar.gz", ".tgz", ".zip")


def _fetch(source: str, scratch: Path) -> Path:
    """The local file or folder of ``source``: a URL is downloaded into Paddle's weights cache
    (archives unpacked there), a local archive is unpacked into ``scratch``."""
    if source.startswith(("http://", "https://")):
        from paddle.utils.download import get_weights_path_from_url

        path = Path(get_weights_path_from_url(source))
    else:
        path = Path(source)
    if path.is_file() and path.name.endswith(ARCHIVES):
        import shutil

        shutil.unpack_archive(path, scratch)
        path = scratch
    if path.is_dir():  # an archive holds one folder of variables (MobileNetV2_pretrained/)
        inner = [p for p in path.iterdir() if not p.name.startswith(".")]
        path = inner[0] if len(inner) == 1 and inner[0].is_dir() else path
    if (path / "model.pdparams").is_file():  # PaddleSeg's backbone archives hold a folder with model.pdparams
        path = path / "model.pdparams"
    return path


def _state(model, path: Path, source: str) -> dict:
    """``path``'s tensors under ``model``'s state-dict keys: a .pdparams by key, an old static-graph
    folder by variable name (the names PaddleClas' name-keeping models, e.g. MobileNetV2, give their
    parameters); weights of a backbone alone (ppdet's, PaddleSeg's) go under ``backbone.``."""
    import paddle

    own = model.state_dict()
    if path.is_dir():
        names = {tensor.name: key for key, tensor in own.items()}
        variables = paddle.static.load_program_state(str(path))
        state = {names.get(name, name): value for name, value in variables.items()}
    elif path.suffix == ".pdparams" and path.is_file():
        state = paddle.load(str(path))
    else:
        raise WeightsError(f"{source} is neither a .pdparams file nor a static-graph archive")
    if hasattr(model, "backbone") and not set(state) & set(own):
        state = {f"backbone.{key}": value for key, value in state.items()}
    return state


def initialise(model, source: str | None) -> dict:
    """Start from published weights: ``run.weights``, a .pdparams file, an old static-graph archive
    (.tar of per-variable files, as the seeds link) or folder, or a URL of one (an entry's
    ``profiles.full.weights`` in params). Tensors whose name or shape differ (a head for other
    classes) keep their fresh values.

    Returns:
        Figures for train.json: the source, tensors loaded and tensors left fresh (empty without weights).

    Raises:
        WeightsError: Absent or unreadable, or no tensor fits the model.
    """
    if not source:
        return {}
    import pickle
    import tempfile

    with tempfile.TemporaryDirectory(prefix="slimzoo-weights-") as scratch:
        try:
            state, own = _state(model, _fetch(source, Path(scratch)), source), model.state_dict()
        except (OSError, ValueError, RuntimeError, pickle.UnpicklingError) as err:  # a broken download
            raise WeightsError(f"{source} cannot be read ({err})") from None
    fits = {k: v for k, v in state.items() if k in own and list(v.shape) == list(own[k].shape)}
    if not fits:
        raise WeightsError(f"no tensor of {source} fits {type(model).__name__} "
                           "(names and shapes differ)")
    model.set_state_dict(fits)
    print(f"initialised {len(fits)} of {len(own)} tensors from {source}")
    return {"weights": source, "weights_loaded": len(fits), "weights_fresh": len(own) - len(fits)}


def train(config: dict, out: Path, metrics: Path, tokens: list[int] | None = None) -> dict:
    """Train the entry of ``config`` and write its outputs; returns the final figures.

    Args:
        tokens: A search space's architecture (stage search); None builds ``config["arch"]``.
    """
    import numpy as np
    import paddle
    from stages.zoo.cls import data as cls_data
    from stages.zoo.cls import fit, models
    from stages.zoo import distributed
    from stages.zoo.provenance import provenance

    run, arch = config["run"], config["arch"]
    paddle.seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    train_set, val_set = cls_data.split(config, "train"), cls_data.split(config, "val")
    model = models.build(arch, tokens)
    fit.shift_batch_norms(model, run.get("bn_shift"))
    weights = run.get("weights")
    if weights == models.PADDLECLAS:
        weights = models.published_weights(arch, config["train"].get("pretrain"))
        if weights is None:
            raise WeightsError(f"PaddleClas publishes no weights of {arch['name']}")
    loaded = initialise(model, weights)
    start = time.perf_counter()
    if run["epochs"]:
        final = fit.fit_logged(model, train_set, val_set, run, fit.schedule_kind(config), rng, metrics)
    else:  # as published (the full profile's baselines: the seeds link the trained models): scored only
        final = {f"val_{k}": v for k, v in fit.evaluate(model, val_set).items()}
        fit.log_once(metrics, final)
    if distributed.rank_and_size()[0]:  # rank 0 writes
        return {}
    paddle.save(model.state_dict(), str(out / "model.pdparams"))
    write_json(out / "model.json", models.describe(arch, tokens))
    write_json(out / "config.json", config)
    figures = {"top1": final["val_top1"], "top5": final["val_top5"], "epochs": run["epochs"],
               "train_images": len(train_set), "val_images": len(val_set),
               "seconds": round(time.perf_counter() - start, 1), **loaded, **provenance(config["threads"]),
               **({"processes": distributed.rank_and_size()[1]} if distributed.is_worker() else {})}
    write_json(metrics / "train.json", figures)
    return figures


def weights_key(err: Exception) -> str:
    """The params key that a :class:`WeightsError` is about, as a message prefix ('' for other errors)."""
    return "key 'run.weights': " if isinstance(err, WeightsError) else ""


def parse(argv: list[str] | None, doc: str, metrics_help: str) -> tuple[argparse.Namespace, dict]:
    """The command line of a stage that trains a model (``--config``, ``--out``, ``--metrics``) and
    its resolved config; sets the process up for the config's thread count."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="resolved config (stage resolve)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the weights")
    parser.add_argument("--metrics", type=Path, required=True, help=metrics_help)
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text(encoding="utf-8"))
    runtime.setup(config["threads"])
    return args, config


def main(argv: list[str] | None = None) -> int:
    """Train one baseline; outputs appear only when training finished.

    Returns:
        0 on success, 1 on a bad config or dataset (one line on stderr).
    """
    args, config = parse(argv, __doc__, "folder for curves and figures")
    from stages.zoo import distributed
    from stages.zoo.cls.models import UnsupportedArch
    from stages.zoo.datasets import DatasetError

    if config["task"] != "classification" or config["base"] is not None:
        print(f"{args.config}: entry '{config['name']}': key 'task': the train stage trains classification "
              "baselines", file=sys.stderr)
        return 1
    try:
        figures = distributed.train_staged("stages.train", args, config, train)
    except (DatasetError, UnsupportedArch, WeightsError, distributed.LaunchError) as err:
        print(f"{args.config}: entry '{config['name']}': {weights_key(err)}{err}", file=sys.stderr)
        return 1
    if not figures:  # a launched worker: rank 0 reports
        return 0
    print(f"trained {config['name']}: top1 {figures['top1']:.2f} top5 {figures['top5']:.2f} "
          f"in {figures['seconds']} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
