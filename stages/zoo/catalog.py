"""The closed vocabularies that params may use: tasks, datasets, architectures, metrics.

An architecture is registered once here with the task(s) it serves and the library that builds
it; params name it by this key. Builders are attached by the stages that train each task.
"""

from __future__ import annotations

from dataclasses import dataclass

TASKS = (
    "classification",
    "detection",
    "face_detection",
    "instance_segmentation",
    "semantic_segmentation",
)

#: Paper-scale datasets, with the on-disk layout their loader reads.
DATASETS = {
    "imagenet": "ImageNet-1k, PaddleClas list layout",
    "cifar10": "CIFAR-10, PaddleClas list layout",
    "coco": "COCO 2017, instances json",
    "voc": "Pascal VOC 2007+2012, xml annotations",
    "widerface": "WIDER FACE, bbx_gt text files",
    "cityscapes": "Cityscapes, leftImg8bit + gtFine labelTrainIds",
}


@dataclass(frozen=True)
class ArchSpec:
    """A registered architecture.

    Attributes:
        tasks: Tasks it can be declared for.
        library: Toolkit that provides it (paddleclas, ppdet, paddleseg, paddleslim).
        backbones: Allowed backbone names; empty when the architecture takes none.
        variants: Allowed values of ``arch.variant`` (None is always allowed).
        min_input: Smallest input size it runs at (the tiny profile's input is raised to it).
    """

    tasks: tuple[str, ...]
    library: str
    backbones: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    min_input: int | None = None


_CLS = ("classification",)
_CLASSIFIERS = (
    "MobileNetV1", "MobileNetV2", "MobileNetV3_large", "MobileNetV3_small", "ShuffleNetV2",
    "ResNet18", "ResNet34", "ResNet50", "ResNet101", "ResNet50_vd", "ResNet101_vd",
    "DarkNet53", "Xception41", "Xception65", "DenseNet121", "DenseNet161", "DenseNet201",
    "HRNet_W18_C",
)
_RCNN_BACKBONES = ("ResNet18", "ResNet50", "ResNet50_vd", "ResNet101", "ResNet101_vd", "HRNet_W18_C",
                   "MobileNetV3_large")

ARCHS: dict[str, ArchSpec] = {
    **{name: ArchSpec(_CLS, "paddleclas") for name in _CLASSIFIERS},
    # PaddleClas' AlexNet flattens a fixed 256x6x6 map into its first FC layer: 224-pixel inputs only
    "AlexNet": ArchSpec(_CLS, "paddleclas", min_input=224),
    # DARTS evaluation network (CIFAR-10 genotype), from PaddleSlim's DARTS search space.
    "DARTS": ArchSpec(_CLS, "paddleslim"),
    "YOLOv3": ArchSpec(("detection",), "ppdet",
                       ("MobileNetV1", "MobileNetV3_large", "ResNet34", "ResNet50_vd", "DarkNet53")),
    "PPYOLO": ArchSpec(("detection",), "ppdet", ("ResNet50_vd",)),
    "SSDLite": ArchSpec(("detection",), "ppdet", ("MobileNetV3_large", "MobileNetV3_small")),
    "FasterRCNN": ArchSpec(("detection",), "ppdet", _RCNN_BACKBONES),
    "CascadeRCNN": ArchSpec(("detection",), "ppdet", _RCNN_BACKBONES),
    "MaskRCNN": ArchSpec(("instance_segmentation",), "ppdet", _RCNN_BACKBONES),
    "BlazeFace": ArchSpec(("face_detection",), "ppdet", (), ("lite", "nas", "nas_v2")),
    "DeepLabV3P": ArchSpec(("semantic_segmentation",), "paddleseg",
                           ("MobileNetV1", "MobileNetV2", "MobileNetV3_large", "Xception65")),
    "FastSCNN": ArchSpec(("semantic_segmentation",), "paddleseg"),
    "UNet": ArchSpec(("semantic_segmentation",), "paddleseg"),
    "FCN": ArchSpec(("semantic_segmentation",), "paddleseg", ("HRNet_W18_C",)),
}

#: NAS search spaces that ``method.nas.search_space`` may name.
SEARCH_SPACES = {
    "MobileNetV2Space": "paddleslim.nas.search_space MobileNetV2Space",
    "DartsSpace": "paddleslim DARTS cell space (SA-NAS over DARTS operations)",
    "BlazeFaceNasSpace": "PaddleDetection slim/nas BlazeFace space",
}


@dataclass(frozen=True)
class MetricSpec:
    """A published or measured metric: its unit and whether larger is better."""

    unit: str
    higher_is_better: bool


METRICS: dict[str, MetricSpec] = {
    "top1": MetricSpec("%", True),
    "top5": MetricSpec("%", True),
    "acc": MetricSpec("%", True),
    "box_ap": MetricSpec("AP", True),
    "mask_ap": MetricSpec("AP", True),
    "miou": MetricSpec("%", True),
    "easy": MetricSpec("AP", True),
    "medium": MetricSpec("AP", True),
    "hard": MetricSpec("AP", True),
    "size_mb": MetricSpec("MB", False),
    "size_kb": MetricSpec("KB", False),
    "params_mb": MetricSpec("MB", False),
    "gflops": MetricSpec("GFLOPs", False),
    "latency_ms": MetricSpec("ms", False),
    "fps": MetricSpec("FPS", True),
}
