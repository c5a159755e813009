"""Does the tiny profile's YOLOv3 learn on the embedded detection data? One training, one change.

    python -m benchmarks.det_learning --name pretrained \
        [--backbone models/pretrain/MobileNetV1/model.pdparams] [--no-augment] \
        [--entry yolov3_mobilenetv1-coco] [--train-images 1200] [--epochs 10] [--lr 0.003] [--batch-size 16] \
        [--bn-shift 2] [--subset 64] [--threads 1] [--out benchmarks/results/det_learning.json]

Trains the entry's detector as its ``det_train`` stage does (the stage's data, fit and scoring code),
with one setting changed, and scores Box AP / AP50 on the train images it saw and on val, plus a
class-agnostic AP50 on val (every label made one class: does it find the digits at all?).

- ``--backbone PATH``: start from a pretrained backbone (stage det_pretrain's model.pdparams), as
  det_train does; without it, from scratch.
- ``--no-augment``: train on the images as they are (det_train augments them: stages/zoo/det/data.py).
- ``--train-images N``: build the detection data with N train images (same generator, same val).
- ``--subset N``: train on the first N train images only (an overfit check).

The figures go under ``--name`` into ``--out`` (one JSON, other names kept), with provenance. The rows
with ``pretrain_top1`` are from before stage det_pretrain: this script pretrained a PaddleClas
MobileNetV1 itself and loaded it by position, and no training augmented its images.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import write_json

ROOT = Path(__file__).resolve().parents[1]


def _data(name: str, train_images: int | None, work: Path) -> Path:
    """``data/<name>``, or the same dataset built with ``train_images`` train images under ``work``."""
    import yaml

    from stages.data import main as build

    if train_images is None:
        return ROOT / "data" / name
    params = yaml.safe_load((ROOT / "params" / "data.yaml").read_text(encoding="utf-8"))
    params["datasets"][name]["train"] = train_images
    (work / "data.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    if build([name, "--out", str(work / name), "--params", str(work / "data.yaml")]):
        raise SystemExit(f"could not build the {name} data with {train_images} train images")
    return work / name


def agnostic_ap50(task, data, predictions) -> float:
    """AP50 with every ground-truth and predicted label made one class."""
    import numpy as np

    from stages.zoo.metrics import Detections

    ds = data.dataset
    samples = [dataclasses.replace(s, labels=tuple(0 for _ in s.labels)) for s in ds.samples]
    one = type(data)(dataclasses.replace(ds, samples=samples, classes=ds.classes[:1]), data.size, data.kind)
    flat = [Detections.of(p.boxes, p.scores, np.zeros(len(p.scores), int)) for p in predictions]
    return task.evaluate.score(one, flat)["box_ap50"]


def measure(args: argparse.Namespace, work: Path) -> dict:
    """Train once with ``args``' change; the figures."""
    import numpy as np
    import paddle

    from stages.train import initialise
    from stages.zoo import dense
    from stages.zoo.cls.fit import schedule_kind, shift_batch_norms
    from stages.zoo.registry import load_registry
    from stages.zoo.resolve import resolve
    from stages.zoo.tasks import package

    registry, task = load_registry(ROOT / "params"), package("detection")
    config = resolve(registry, args.entry, "tiny")
    config["data"] = str(_data("det", args.train_images, work) / config["dataset"])
    config["run"].update({k: v for k, v in (("epochs", args.epochs), ("lr", args.lr), ("batch_size", args.batch_size))
                          if v is not None})
    figures = {"entry": args.entry, **{k: config["run"][k] for k in ("epochs", "lr", "batch_size")}}
    config["run"]["augment"] = not args.no_augment
    figures["augment"] = config["run"]["augment"]
    paddle.seed(config["seed"])
    train, val = task.data.split(config, "train"), task.data.split(config, "val")
    train = train.head(args.subset) if args.subset else train
    model, info = task.models.build(config["arch"]), task.models.describe(config["arch"])
    if args.backbone:
        figures.update(initialise(model, str(args.backbone)))
    if args.bn_shift is not None:
        figures["bn_shift"] = args.bn_shift
        shift_batch_norms(model, args.bn_shift)
    start = time.perf_counter()
    losses = task.fit.fit(model, train, config["run"], schedule_kind(config), info,
                          np.random.default_rng(config["seed"]), work / "curves")
    run = dense.runner(model)
    seen, held = task.evaluate.predict(run, train, info), task.evaluate.predict(run, val, info)
    return {**figures, "train_images": len(train), "seconds": round(time.perf_counter() - start, 1),
            "loss_first": losses[0], "loss_last": losses[-1],
            **{f"train_{k}": v for k, v in task.evaluate.score(train, seen).items()},
            **{f"val_{k}": v for k, v in task.evaluate.score(val, held).items()},
            "val_agnostic_ap50": agnostic_ap50(task, val, held)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="key of this run in --out")
    parser.add_argument("--entry", default="yolov3_mobilenetv1-coco", help="detection entry (params/zoo)")
    parser.add_argument("--epochs", type=int, help="detector epochs (default: the profile's)")
    parser.add_argument("--lr", type=float, help="detector lr (default: the profile's)")
    parser.add_argument("--batch-size", type=int, help="detector batch size (default: the profile's)")
    parser.add_argument("--bn-shift", type=float, help="start every batch-norm beta here (as classification)")
    parser.add_argument("--backbone", type=Path, help="pretrained backbone (stage det_pretrain's model.pdparams)")
    parser.add_argument("--no-augment", action="store_true", help="train on the images as they are")
    parser.add_argument("--train-images", type=int, help="build the detection data with N train images")
    parser.add_argument("--subset", type=int, help="train on the first N train images only")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/det_learning.json"))
    args = parser.parse_args(argv)
    runtime.setup(threads=args.threads)
    from stages.zoo.provenance import provenance

    with tempfile.TemporaryDirectory(prefix="slimzoo-det-learning-") as work:
        figures = {**measure(args, Path(work)), **provenance(args.threads)}
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    write_json(args.out, {**results, args.name: figures})
    print(f"{args.name}: val AP {figures['val_box_ap']:.2f} AP50 {figures['val_box_ap50']:.2f}, agnostic AP50 "
          f"{figures['val_agnostic_ap50']:.2f}; train AP {figures['train_box_ap']:.2f} in {figures['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
