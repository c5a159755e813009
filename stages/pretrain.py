"""Stage `det_pretrain@<backbone>`: a detector backbone pretrained on the classification data.

    python -m stages.pretrain MobileNetV1 --out models/pretrain/MobileNetV1 --metrics metrics/pretrain/MobileNetV1

The detection recipes start the backbone from ImageNet weights (``train.pretrain: imagenet``). This
stage trains the detector's own backbone (ppdet's, at the detection profile's width) with a
classification head on the classification family's data of the selected profile (data/cls, the
ImageNet stand-in of the tiny profile), with that family's run settings but for the detection
profile's ``pretrain_epochs``. Without it the tiny YOLOv3 learned nothing (benchmarks/det_learning.py).

Writes ``--out``: model.pdparams (backbone tensors under the detector's names ``backbone.*``, and
the head's, which the detector leaves out) and config.json; ``--metrics``: the curves and train.json
(the classifier's val top-1, with provenance). det_train starts from it: the detection profiles'
``weights`` name it, unless an entry names its own. Outputs appear only when training finished.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import write_json


def config_for(registry, name: str) -> dict:
    """The run of backbone ``name``: the classification family's data and run settings in the
    selected profile, the detection profile's width and ``pretrain_epochs``.

    Raises:
        ValueError: Not a declared backbone, or the profile sets no ``pretrain_epochs`` (one line).
    """
    from stages.zoo.resolve import _plain

    profile = registry.choice.profile
    det, cls = registry.defaults["detection"], registry.defaults["classification"]
    where = "params/defaults/detection.yaml"
    if name not in det.pretrain:
        raise ValueError(f"{where}: key 'pretrain': {name!r} is not declared (declared: {', '.join(det.pretrain)})")
    epochs = det.profiles[profile].pretrain_epochs
    if not epochs:
        raise ValueError(f"{where}: key 'profiles.{profile}.pretrain_epochs': not set")
    run = dataclasses.replace(cls.profiles[profile], epochs=epochs)
    return {"name": f"pretrain-{name}", "task": "classification", "profile": profile, "dataset": "imagenet",
            "data": run.data["imagenet"], "base": None, "run": _plain(run), "train": _plain(cls.train),
            "arch": {"backbone": name, "scale": det.profiles[profile].scale or 1.0, "classes": run.classes or 1000,
                     "input": run.input or 224},
            "threads": registry.choice.threads, "seed": registry.choice.seed}


def train(config: dict, out: Path, metrics: Path) -> dict:
    """Train the backbone of ``config`` with a classification head; write its outputs."""
    import numpy as np
    import paddle

    from stages.zoo.cls import data, fit
    from stages.zoo.det.models import classifier
    from stages.zoo.provenance import provenance

    arch, run = config["arch"], config["run"]
    paddle.seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    train_set, val_set = data.split(config, "train"), data.split(config, "val")
    model = classifier(arch["backbone"], arch["scale"], arch["classes"])
    fit.shift_batch_norms(model, run.get("bn_shift"))
    start = time.perf_counter()
    final = fit.fit_logged(model, train_set, val_set, run, fit.schedule_kind(config), rng, metrics)
    paddle.save(model.state_dict(), str(out / "model.pdparams"))
    write_json(out / "config.json", config)
    figures = {"top1": final["val_top1"], "top5": final["val_top5"], "epochs": run["epochs"],
               "train_images": len(train_set), "val_images": len(val_set),
               "seconds": round(time.perf_counter() - start, 1), **provenance(config["threads"])}
    write_json(metrics / "train.json", figures)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Pretrain one backbone.

    Returns:
        0 on success, 1 on bad params or data (one line on stderr).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backbone", help="a name under `pretrain` in params/defaults/detection.yaml")
    parser.add_argument("--params", type=Path, default=Path("params"), help="params folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for the weights")
    parser.add_argument("--metrics", type=Path, required=True, help="folder for curves and figures")
    args = parser.parse_args(argv)
    from stages.zoo.registry import load_or_report

    registry = load_or_report(args.params)
    if registry is None:
        return 1
    try:
        config = config_for(registry, args.backbone)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 1
    runtime.setup(config["threads"])
    from stages.zoo.datasets import DatasetError
    from stages.zoo.io import staged_dirs

    try:
        with staged_dirs(args.out, args.metrics) as (out, metrics):
            figures = train(config, out, metrics)
    except DatasetError as err:
        print(f"pretrain {args.backbone}: {err}", file=sys.stderr)
        return 1
    print(f"pretrained {args.backbone}: top1 {figures['top1']:.2f} in {figures['seconds']} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
