"""Training of a YOLOv3, SSDLite or two-stage (Faster, Cascade, Mask RCNN) detector (dygraph, CPU or GPU): ppdet's
loss in the shared epoch loop (stages/zoo/loop.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import loop
from .data import DetSet
from .families import family


#: Weight of the L2 distillation term (PaddleSlim's ``l2_loss`` pairs of ppdet 1.x's YOLOv3 recipe are added
#: to the detector's loss as they are).
L2_WEIGHT = 1.0


def fit(model: Any, train: DetSet, run: dict[str, Any], kind: str, info: dict[str, Any], rng: np.random.Generator,
        metrics: Path, teacher: Any = None, strategy: str = "l2") -> list[float]:
    """Train ``model`` for ``run["epochs"]`` on shuffled batches; returns each epoch's mean loss.

    Args:
        run: The profile's run settings (epochs, lr, batch_size, optimizer, warmup_epochs); ``augment``
            False trains on the images as they are (benchmarks/det_learning.py), else through ppdet's
            augmentations.
        kind: LR schedule, ``piecewise`` or ``cosine``.
        info: The model's description (name; a YOLOv3's anchors, masks, strides, classes) for the targets.
        metrics: dvclive folder for the curves.
        teacher: A YOLOv3 whose output maps the student's learn too (:func:`distilled_loss`, by ``strategy``).
    """
    import paddle

    batch, augment, fam = run["batch_size"], run.get("augment", True), family(info["name"])
    steps = max(1, len(train) // batch)

    def batches():
        order = rng.permutation(len(train))
        for k in range(steps):
            yield fam.targets(train, order[k * batch:(k + 1) * batch], rng if augment else None, info)

    def loss(model, targets):
        b = {key: v if key == "gt_poly" else paddle.to_tensor(v) for key, v in targets.items()}  # polygons: objects
        if teacher is not None:
            return distilled_loss(model, teacher, b, strategy)
        return fam.loss(model, b)

    return loop.fit(model, run, kind, steps, batches, loss, metrics, 5e-4)


def distilled_loss(student: Any, teacher: Any, batch: dict[str, Any], strategy: str) -> Any:
    """ppdet's YOLOv3 loss of ``student`` on ``batch`` plus a distillation term from ``teacher`` (eval mode,
    no gradients) on the three output maps:

    - ``l2``: ppdet 1.x's recipe: each map's mean squared difference to the teacher's (PaddleSlim's
      ``l2_loss``), times :data:`L2_WEIGHT`;
    - ``fine_grained``: ppdet's ``DistillYOLOv3Loss`` (weight 1000, as its COCO distillation config):
      x, y, w, h and classes weighted by the teacher's objectness, objectness against its sign.
    """
    import paddle

    net = getattr(student, "_layers", student)  # under DataParallel, the model it wraps
    head = net.yolo_head
    outputs = [conv(feat) for conv, feat in zip(head.yolo_outputs, net.neck(net.backbone({"image": batch["image"]})))]
    teacher.eval()
    with paddle.no_grad():
        targets = teacher(batch["image"])
    loss = head.loss(outputs, batch, head.anchors)["loss"]  # fills ppdet's ``distill_pairs`` of the student
    if strategy == "l2":
        return loss + L2_WEIGHT * paddle.add_n([paddle.mean(paddle.square(s - t)) for s, t in zip(outputs, targets)])
    from types import SimpleNamespace

    from ppdet.slim.distill_loss import DistillYOLOv3Loss

    def pairs(found):
        return SimpleNamespace(yolo_head=SimpleNamespace(loss=SimpleNamespace(distill_pairs=found)))

    return loss + DistillYOLOv3Loss()(pairs([_split(t, len(a)) for t, a in zip(targets, head.anchors)]),
                                      pairs(head.loss.distill_pairs))


def _split(output: Any, anchors: int) -> list[Any]:
    """A YOLOv3 output map as ppdet's ``YOLOv3Loss`` splits it for distillation: x, y, w, h, objectness
    and class logits, each (N, anchors, H, W, channels)."""
    n, c, h, w = output.shape
    p = output.reshape((n, anchors, c // anchors, h, w)).transpose((0, 1, 3, 4, 2))
    return [p[..., 0:1], p[..., 1:2], p[..., 2:3], p[..., 3:4], p[..., 4:5], p[..., 5:]]
