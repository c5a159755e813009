"""Build a registered detection architecture from PaddleDetection's (``ppdet``) own layers: YOLOv3
here, SSDLite in :mod:`.ssd`, Faster, Cascade and Mask RCNN (FPN) in :mod:`.rcnn`; each family's pieces
(targets, loss, decoding, export) are one row of :mod:`.families`.

    model = build({"name": "YOLOv3", "backbone": "MobileNetV1", "classes": 10, "input": 96, "scale": 0.25})

The tiny profile narrows the backbone and the YOLOv3 FPN by ``scale`` (ppdet's ``YOLOv3FPN`` has fixed
widths, so :class:`ScaledYOLOv3FPN` rebuilds it from ppdet's own blocks; its one-width backbones are
narrowed by uniform filter pruning, :mod:`.narrow`); at ``scale`` 1 the model is ppdet's as published.
Anchors are the published COCO anchors for 608 px, scaled to the input size.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# A det train stage folder has the classification layout: model.json (here what :func:`build` needs)
# and the float weights; the file list and its check are those of the classification models.
from ..cls.models import FILES, missing  # noqa: F401  (re-exported for the det stages)

#: YOLOv3's published anchors (w, h in pixels at 608 px input) and which of them each output uses.
ANCHORS_608 = [[10, 13], [16, 30], [33, 23], [30, 61], [62, 45], [59, 119], [116, 90], [156, 198], [373, 326]]
ANCHOR_MASKS = [[6, 7, 8], [3, 4, 5], [0, 1, 2]]
#: Output strides of the three YOLOv3 outputs (coarse to fine), as the anchor masks.
STRIDES = [32, 16, 8]

#: Backbones of the YOLOv3 entries -> (ppdet backbone class, keyword arguments at width ``scale``).
_BACKBONES = {
    "MobileNetV1": ("mobilenet_v1.MobileNet", lambda s, dcn: {"scale": s, "feature_maps": [4, 6, 13]}),
    "MobileNetV3_large": ("mobilenet_v3.MobileNetV3",
                          lambda s, dcn: {"model_name": "large", "scale": s, "feature_maps": [7, 13, 16]}),
    "MobileNetV3_small": ("mobilenet_v3.MobileNetV3",
                          lambda s, dcn: {"model_name": "small", "scale": s, "feature_maps": [4, 9, 12]}),
    "ResNet18": ("resnet.ResNet", lambda s, dcn: {"depth": 18, "return_idx": [1, 2, 3], "freeze_at": -1,
                                                  "freeze_norm": False}),
    "ResNet34": ("resnet.ResNet", lambda s, dcn: {"depth": 34, "return_idx": [1, 2, 3], "freeze_at": -1,
                                                  "freeze_norm": False}),
    "ResNet50": ("resnet.ResNet", lambda s, dcn: {"depth": 50, "return_idx": [1, 2, 3], "freeze_at": -1,
                                                  "freeze_norm": False}),
    "ResNet101": ("resnet.ResNet", lambda s, dcn: {"depth": 101, "return_idx": [1, 2, 3], "freeze_at": -1,
                                                   "freeze_norm": False}),
    "ResNet101_vd": ("resnet.ResNet", lambda s, dcn: {"depth": 101, "variant": "d", "return_idx": [1, 2, 3],
                                                      "freeze_at": -1, "freeze_norm": False}),
    "ResNet50_vd": ("resnet.ResNet", lambda s, dcn: {"depth": 50, "variant": "d", "return_idx": [1, 2, 3],
                                                     "freeze_at": -1, "freeze_norm": False,
                                                     "dcn_v2_stages": [3] if dcn else [-1]}),
    "DarkNet53": ("darknet.DarkNet", lambda s, dcn: {"depth": 53, "return_idx": [2, 3, 4]}),
}


#: What makes a backbone return its four stages (strides 4 to 32) for an FPN: a ResNet's ``return_idx`` unless
#: listed here (MobileNetV3_large: the last block of each stride, as its YOLOv3 ``feature_maps`` for 8 to 32).
_ALL_STAGES = {"MobileNetV3_large": {"feature_maps": [4, 7, 13, 16]}}


#: Backbones that ppdet builds at one width: the tiny profile narrows them to its ``scale`` (:mod:`.narrow`);
#: at full width ResNet34's pretraining alone took 18 minutes on 2 cores, and its YOLOv3 over an hour.
_ONE_WIDTH = {"ResNet18", "ResNet34", "ResNet50", "ResNet50_vd", "ResNet101", "ResNet101_vd", "DarkNet53"}


#: The seeds' layers left in float by SSDLite's quant-aware training (ppdet 1.x MobileNetV3 name scopes:
#: each residual unit's depthwise conv and its squeeze-excitation) -> ppdet 2.x's ``ResidualUnit`` sublayers.
NOT_QUANT = {"res_conv1": "bottleneck_conv", "se_block": "mid_se"}


class UnsupportedArch(Exception):
    """The architecture cannot be built here; the message says why in one line."""


def anchors_for(input_size: int) -> list[list[float]]:
    """The published anchors scaled from 608 px to ``input_size`` (objects scale with the image)."""
    return [[round(w * input_size / 608, 2), round(h * input_size / 608, 2)] for w, h in ANCHORS_608]


def backbone(name: str, scale: float = 1.0, dcn: bool = False, outputs: str = "yolo"):
    """A fresh ppdet backbone of a detector entry: ``name`` at width ``scale``, with deformable
    convolutions when ``dcn``; a ResNet returns its last three stages (``outputs`` "yolo"), all four
    ("fpn": an FPN's inputs) or the fourth alone ("c4": a C4 RCNN's, whose fifth stage is its box head).

    Raises:
        UnsupportedArch: Not a backbone this module builds (yet).
    """
    import importlib

    if name not in _BACKBONES:
        raise UnsupportedArch(f"YOLOv3 backbone {name!r} is not built yet (built: {', '.join(_BACKBONES)})")
    path, kwargs = _BACKBONES[name]
    module, cls = path.rsplit(".", 1)
    stages = {"yolo": {}, "fpn": _ALL_STAGES.get(name, {"return_idx": [0, 1, 2, 3]}),
              "c4": {"return_idx": [2], "num_stages": 3}}  # ppdet builds every stage up to num_stages
    args = {**kwargs(scale, dcn), **stages[outputs]}
    body = getattr(importlib.import_module(f"ppdet.modeling.backbones.{module}"), cls)(**args)
    if dcn:  # ppdet's deformable convolution calls F.sigmoid, which paddle 3.3's old IR needs shimmed
        from . import compat

        compat.apply()
    if name in _ONE_WIDTH and scale < 1:
        from .narrow import narrow

        narrow(body, scale)
    return body


def classifier(name: str, scale: float, classes: int):
    """A detector's backbone with a classification head (global average pool and a linear layer on
    its coarsest feature map): what stage det_pretrain trains on the classification data, so that the
    backbone's own tensors, under its own names, start the detector (``layer.backbone``)."""
    import paddle

    class Classifier(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.backbone = backbone(name, scale)
            self.fc = paddle.nn.Linear(self.backbone.out_shape[-1].channels, classes)

        def forward(self, x):
            features = self.backbone({"image": x})[-1]
            return self.fc(paddle.flatten(paddle.nn.functional.adaptive_avg_pool2d(features, 1), 1))

    with paddle.utils.unique_name.guard():
        return Classifier()


def _scaled_fpn(in_channels: list[int], scale: float):
    """ppdet's YOLOv3FPN, or at ``scale`` < 1 the same layers with every width scaled."""
    import paddle
    from ppdet.modeling.necks import yolo_fpn

    if scale >= 1:
        return yolo_fpn.YOLOv3FPN(in_channels=in_channels)

    class ScaledYOLOv3FPN(yolo_fpn.YOLOv3FPN):
        """YOLOv3FPN with widths 512 / 256 / 128 times ``scale``: its forward, its sublayer names (the
        names the pruned parameter lists use), narrower blocks."""

        def __init__(self):
            paddle.nn.Layer.__init__(self)
            self.in_channels, self.num_blocks, self.data_format = in_channels, len(in_channels), "NCHW"
            self._out_channels, self.yolo_blocks, self.routes = [], [], []
            width = [max(8, int(512 * scale) // 2 ** i) for i in range(self.num_blocks)]
            for i in range(self.num_blocks):
                ch_in = in_channels[-i - 1] + (width[i - 1] // 2 if i else 0)
                name = f"yolo_block.{i}"
                self.yolo_blocks.append(self.add_sublayer(
                    name, yolo_fpn.YoloDetBlock(ch_in, width[i], norm_type="bn", name=name)))
                self._out_channels.append(2 * width[i])
                if i < self.num_blocks - 1:
                    name = f"yolo_transition.{i}"
                    self.routes.append(self.add_sublayer(name, yolo_fpn.ConvBNLayer(
                        ch_in=width[i], ch_out=width[i] // 2, filter_size=1, stride=1, padding=0,
                        norm_type="bn", name=name)))

    return ScaledYOLOv3FPN()


def build(arch: dict[str, Any]):
    """A fresh detector for a resolved ``arch`` (name, backbone, dcn, scale, classes, input), by its family
    (:mod:`.families`).

    Raises:
        UnsupportedArch: Not an architecture this package builds (yet).
    """
    from .families import family

    return family(arch["name"]).build(arch)


def yolov3(arch: dict[str, Any]):
    """A fresh YOLOv3 for a resolved ``arch``.

    Raises:
        UnsupportedArch: A backbone this module does not build.
    """
    import paddle
    from ppdet.modeling.heads.yolo_head import YOLOv3Head
    from ppdet.modeling.losses.yolo_loss import YOLOv3Loss

    scale = arch.get("scale") or 1.0
    with paddle.utils.unique_name.guard():
        body = backbone(arch["backbone"], scale, bool(arch.get("dcn")))
        neck = _scaled_fpn([s.channels for s in body.out_shape], scale)
        loss = YOLOv3Loss(num_classes=arch["classes"], ignore_thresh=0.7, downsample=STRIDES, label_smooth=False)
        head = YOLOv3Head(in_channels=[s.channels for s in neck.out_shape], anchors=anchors_for(arch["input"]),
                          anchor_masks=ANCHOR_MASKS, num_classes=arch["classes"], loss=loss)
        _objectness_prior(head, arch["classes"])
        return _detector(body, neck, head)


def two_stage(arch: dict[str, Any]):
    """A fresh Faster, Cascade or Mask RCNN (:mod:`.rcnn`), if this package builds its neck and backbone:
    FPN on a ResNet or one of :data:`_ALL_STAGES`, or C4 (no neck) on a ResNet of 50 layers or more.

    Raises:
        UnsupportedArch: Another neck or backbone, or deformable convolutions.
    """
    from . import rcnn

    resnet = arch["backbone"].startswith("ResNet") and arch["backbone"] not in ("ResNet18", "ResNet34")
    fpn = arch["backbone"].startswith("ResNet") or arch["backbone"] in _ALL_STAGES
    if arch.get("dcn") or not (fpn if arch.get("neck") == "fpn" else resnet and arch["name"] != "CascadeRCNN"):
        raise UnsupportedArch(f"{arch['name']} {arch['backbone']} (neck {arch.get('neck')}): only the FPN ones on "
                              f"plain ResNets and {', '.join(_ALL_STAGES)}, and the C4 Faster and Mask RCNNs on "
                              "ResNet50 and deeper are built yet")
    return rcnn.build(arch)


def ssdlite(arch: dict[str, Any]):
    """A fresh SSDLite (:mod:`.ssd`), if this package builds its backbone.

    Raises:
        UnsupportedArch: Another backbone.
    """
    from . import ssd

    if arch["backbone"] not in ssd.FEATURE_MAPS:
        raise UnsupportedArch(f"SSDLite backbone {arch['backbone']!r} is not built "
                              f"(built: {', '.join(ssd.FEATURE_MAPS)})")
    return ssd.build(arch)


#: Prior probability of an object at a YOLOv3 output slot at initialisation (ppdet's own
#: ``bias_init_with_prob`` default, as its newer heads use it).
OBJECT_PRIOR = 0.01


def _objectness_prior(head, classes: int) -> None:
    """Start every objectness logit at :data:`OBJECT_PRIOR`. ppdet's YOLOv3Head starts them at 0 (p 0.5),
    so at first the ~600 empty slots of an image dominate the loss (obj 460 against cls 15); the
    embedded profile's few hundred steps went to unlearning that (obj loss 20 after 200 steps; 7
    with the prior)."""
    from ppdet.modeling.initializer import bias_init_with_prob

    per_anchor = classes + 5  # x, y, w, h, objectness, classes
    for conv in head.yolo_outputs:
        bias = conv.bias.numpy()
        bias[4::per_anchor] = bias_init_with_prob(OBJECT_PRIOR)
        conv.bias.set_value(bias)


def _detector(backbone, neck, head):
    import paddle

    class Detector(paddle.nn.Layer):
        """Image batch -> the three raw YOLOv3 outputs (decoding and NMS: :mod:`.decode`); with
        ``targets`` in train mode, ppdet's YOLOv3 loss dict."""

        def __init__(self):
            super().__init__()
            self.backbone, self.neck, self.yolo_head = backbone, neck, head

        def forward(self, x, targets=None):
            return self.yolo_head(self.neck(self.backbone({"image": x})), targets)

    return Detector()


#: ppdet 1.x YoloDetBlock convolutions (the seeds' pruned parameter lists: ``yolo_block.0.1.0.conv.weights``)
#: -> the same convolution in ppdet 2.x's block (``conv_module`` holds conv0..conv3 and route; ``tip``).
_BLOCK_CONVS = {"0.0": "conv_module.conv0", "0.1": "conv_module.conv1", "1.0": "conv_module.conv2",
                "1.1": "conv_module.conv3", "2": "conv_module.route", "tip": "tip"}


def weight_names(model: Any, static_names: list[str]) -> list[str]:
    """The parameter names in ``model`` of the seeds' ppdet 1.x static-graph weights, in order.

    Raises:
        UnsupportedArch: A name that is not a YOLOv3 head convolution of this model.
    """
    if not hasattr(model, "yolo_head"):
        raise UnsupportedArch(f"{static_names[0]}: pruned parameter lists are published for YOLOv3 heads only")
    layers = dict(model.named_sublayers())
    found = []
    for name in static_names:
        match = re.fullmatch(r"yolo_block\.(\d+)\.(.+)\.conv\.weights", name)
        path = match and _BLOCK_CONVS.get(match.group(2))
        layer = layers.get(f"neck.yolo_block.{match.group(1)}.{path}.conv") if path else None
        if layer is None:
            raise UnsupportedArch(f"{name}: not a YOLOv3 head convolution of this model")
        found.append(layer.weight.name)
    return found


#: Why a detector with deformable convolutions has no ONNX model: converted, it disagrees with Paddle.
DCN_ONNX = ("paddle2onnx 2.1's deformable_conv conversion disagrees with Paddle (YOLOv3 R50-vd-dcn at 64 px: "
            "output maps off by up to 0.35 where they reach 5)")


def onnx_unsupported(info: dict[str, Any]) -> str | None:
    """Why paddle2onnx cannot convert this detector, or None (its family's, :mod:`.families`; deformable
    convolutions: :data:`DCN_ONNX`)."""
    from .families import family

    return DCN_ONNX if info.get("dcn") else family(info["name"]).onnx_unsupported


def export_batch(info: dict[str, Any]) -> int:
    """Images per call that the exported model takes: one for an RCNN (ppdet's export path), 0 for any."""
    from .families import family

    return family(info["name"]).export_batch


def describe(arch: dict[str, Any]) -> dict[str, Any]:
    """What model.json records, for :func:`load`: the arch and what its family's decoding needs (YOLOv3's
    anchors, masks and strides; an SSDLite's variances, its anchors follow the input size; an RCNN's anchor
    sizes and box weights)."""
    from .families import family

    keys = ("name", "backbone", "dcn", "scale", "classes", "input")
    return {**{k: arch.get(k) for k in keys}, **family(arch["name"]).describe(arch)}


def yolov3_info(arch: dict[str, Any]) -> dict[str, Any]:
    """A YOLOv3's decoding settings: its anchors at the input size, their masks, the output strides."""
    return {"anchors": anchors_for(arch["input"]), "anchor_masks": ANCHOR_MASKS, "strides": STRIDES}


def load(folder: Path) -> tuple[Any, dict[str, Any]]:
    """The detector a det train stage folder holds, with its weights, and its model.json."""
    import paddle

    info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    model = build(info)
    model.set_state_dict(paddle.load(str(folder / "model.pdparams")))
    return model, info
