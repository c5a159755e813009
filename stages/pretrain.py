"""Stage `det_pretrain@<backbone>`: a detector backbone pretrained on the classification data.

    python -m stages.pretrain MobileNetV1 --out models/pretrain/MobileNetV1 --metrics metrics/pretrain/MobileNetV1

The detection recipes start the backbone from ImageNet weights (``train.pretrain: imagenet``). This
stage makes the detector's own backbone (ppdet's, at the detection profile's width) with a
classification head: from scratch, or with ``pretrain_from: published`` from the published ImageNet
weights that params/defaults/detection.yaml's ``pretrain`` names for it (PaddleDetection's, keyed by
ppdet's layer names; the head stays fresh). It then trains on the classification family's data of
the selected profile (data/cls, the ImageNet stand-in of the tiny profile), with that family's run
settings but for the detection profile's ``pretrain_epochs``; 0 keeps the published backbone as it is
(the full profile). Without it the tiny YOLOv3 learned nothing (benchmarks/det_learning.py).

Writes ``--out``: model.pdparams (backbone tensors under the detector's names ``backbone.*``, and
the head's, which the detector leaves out) and config.json; ``--metrics``: the curves and train.json
(the classifier's val top-1 when it trained, the weights it started from, with provenance). det_train
starts from it: the detection profiles' ``weights`` name it, unless an entry names its own. Outputs
appear only when the stage finished.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import write_json


def config_for(registry, name: str, profile: str | None = None) -> dict:
    """The run of backbone ``name``: the classification family's data and run settings in ``profile``
    (default: the selected one), the detection profile's width, ``pretrain_epochs`` and start.

    Raises:
        ValueError: Not a declared backbone, or the profile sets no ``pretrain_epochs``, or 0 of them
            with nothing published to start from (one line).
    """
    from stages.zoo.resolve import _plain

    profile = profile or registry.choice.profile
    det, cls = registry.defaults["detection"], registry.defaults["classification"]
    where = "params/defaults/detection.yaml"
    if name not in det.pretrain:
        raise ValueError(f"{where}: key 'pretrain': {name!r} is not declared (declared: {', '.join(det.pretrain)})")
    settings = det.profiles[profile]
    epochs, published = settings.pretrain_epochs, settings.pretrain_from == "published"
    if epochs is None or (epochs == 0 and not published):
        raise ValueError(f"{where}: key 'profiles.{profile}.pretrain_epochs': "
                         + ("not set" if epochs is None else "0 trains nothing unless pretrain_from is published"))
    run = dataclasses.replace(cls.profiles[profile], epochs=epochs, weights=det.pretrain[name] if published else None)
    return {"name": f"pretrain-{name}", "task": "classification", "profile": profile, "dataset": "imagenet",
            "data": run.data["imagenet"], "base": None, "run": _plain(run), "train": _plain(cls.train),
            "arch": {"backbone": name, "scale": det.profiles[profile].scale or 1.0, "classes": run.classes or 1000,
                     "input": run.input or 224},
            "threads": registry.choice.threads, "seed": registry.choice.seed}


def train(config: dict, out: Path, metrics: Path) -> dict:
    """Start the backbone of ``config`` (with a classification head) fresh or from its published weights,
    train it for ``run.epochs``; write its outputs.

    Raises:
        stages.train.WeightsError: The published weights cannot be read or fit no tensor.
    """
    import numpy as np
    import paddle

    from stages.train import initialise
    from stages.zoo.cls import data, fit
    from stages.zoo.det.models import classifier
    from stages.zoo.provenance import provenance

    arch, run = config["arch"], config["run"]
    paddle.seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    train_set, val_set = data.split(config, "train"), data.split(config, "val")
    model = classifier(arch["backbone"], arch["scale"], arch["classes"])
    loaded = initialise(model, run.get("weights"))  # ppdet's backbone keys land under backbone.
    if not loaded:
        fit.shift_batch_norms(model, run.get("bn_shift"))
    start, scores = time.perf_counter(), {}
    if run["epochs"]:
        final = fit.fit_logged(model, train_set, val_set, run, fit.schedule_kind(config), rng, metrics)
        scores = {"top1": final["val_top1"], "top5": final["val_top5"]}
    else:  # as published: its fresh head would score chance; the curves hold what was loaded
        fit.log_once(metrics, {k: v for k, v in loaded.items() if k != "weights"})
    paddle.save(model.state_dict(), str(out / "model.pdparams"))
    write_json(out / "config.json", config)
    figures = {**scores, "epochs": run["epochs"], "train_images": len(train_set), "val_images": len(val_set),
               "seconds": round(time.perf_counter() - start, 1), **loaded, **provenance(config["threads"])}
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
    from stages.train import WeightsError
    from stages.zoo.datasets import DatasetError
    from stages.zoo.io import staged_dirs

    try:
        with staged_dirs(args.out, args.metrics) as (out, metrics):
            figures = train(config, out, metrics)
    except DatasetError as err:
        print(f"pretrain {args.backbone}: {err}", file=sys.stderr)
        return 1
    except WeightsError as err:  # the published weights that params name for the backbone
        print(f"params/defaults/detection.yaml: key 'pretrain.{args.backbone}': {err}", file=sys.stderr)
        return 1
    top1 = f"top1 {figures['top1']:.2f}" if "top1" in figures else f"as published ({figures['weights']})"
    print(f"pretrained {args.backbone}: {top1} in {figures['seconds']} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
