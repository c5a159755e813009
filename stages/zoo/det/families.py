"""The detector families of the det package, one row each: how a family's model is built and described,
fed (training targets), trained (its loss), decoded and exported. One table instead of a switch on the
architecture in each of those places (models, fit, decode, the export stage).

    family("FasterRCNN").targets(train, idx, rng, info)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Family:
    """What the det stages need of one detector family.

    Attributes:
        build: Resolved arch -> a fresh model.
        describe: Resolved arch -> what model.json records besides the arch (anchors, coder weights).
        targets: ``(split, indices, rng or None, info)`` -> a training batch of arrays.
        loss: ``(model, batch of tensors)`` -> the scalar loss (ppdet's).
        detections: ``(outputs, info, input size)`` -> per image boxes, scores, labels, after NMS.
        export_batch: Images per call of the exported model (0: any).
        onnx_unsupported: Why paddle2onnx cannot convert it, or None.
    """

    build: Callable[[dict], Any]
    describe: Callable[[dict], dict]
    targets: Callable[..., dict]
    loss: Callable[[Any, dict], Any]
    detections: Callable[..., list]
    export_batch: int = 0
    onnx_unsupported: str | None = None


def _yolov3() -> Family:
    from . import data, decode, models

    return Family(build=models.yolov3, describe=models.yolov3_info,
                  targets=lambda split, idx, rng, info: data.yolo_targets(split, idx, info, rng),
                  loss=lambda model, batch: model(batch["image"], batch)["loss"],  # ppdet's YOLOv3 loss: a dict
                  detections=decode.yolo_detections)


def _ssdlite() -> Family:
    from . import data, models, ssd

    return Family(build=models.ssdlite, describe=lambda arch: {"variances": ssd.VARIANCES},
                  targets=lambda split, idx, rng, info: data.ssd_targets(split, idx, rng),
                  loss=lambda model, batch: model(batch["image"], batch),  # ppdet's SSD loss: a scalar
                  detections=ssd.ssdlite_detections)


def _rcnn(masks: bool) -> Family:
    from . import data, models, rcnn

    return Family(build=models.two_stage, describe=rcnn.describe,
                  targets=lambda split, idx, rng, info: data.rcnn_targets(split, idx, rng, polygons=masks),
                  loss=lambda model, batch: model(batch["image"], rcnn.per_image(batch))["loss"],
                  detections=rcnn.detections, export_batch=1,  # ppdet's export path: one image a call
                  onnx_unsupported="paddle2onnx 2.1 has no converter for the RPN's generate_proposals_v2 and "
                                   "distribute_fpn_proposals")


#: Architecture name -> its family (made on first use: each imports ppdet).
FAMILIES: dict[str, Callable[[], Family]] = {
    "YOLOv3": _yolov3, "SSDLite": _ssdlite, "FasterRCNN": lambda: _rcnn(False),
    "CascadeRCNN": lambda: _rcnn(False), "MaskRCNN": lambda: _rcnn(True)}


def family(name: str) -> Family:
    """The family of architecture ``name``.

    Raises:
        UnsupportedArch: Not a detector this package builds.
    """
    from .models import UnsupportedArch

    if name not in FAMILIES:
        raise UnsupportedArch(f"{name}: only {', '.join(FAMILIES)} detectors are built yet")
    return FAMILIES[name]()
