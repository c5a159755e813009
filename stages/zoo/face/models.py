"""Build a registered face detector from PaddleDetection's (``ppdet``) own layers: BlazeFace.

    model = build({"name": "BlazeFace", "variant": "nas", "classes": 1, "input": 128, "scale": 0.5})

ppdet's ``BlazeNet`` backbone and ``FaceHead`` with its SSD anchors and ``SSDLoss``, configured as ppdet's
configs/face_detection/_base_/blazeface.yml (whose ``BlazeNeck`` has no FPN/SSH and returns its inputs:
left out, as paddle.flops cannot count a childless layer that takes a list).
The variants are the filter lists of ppdet 1.x's configs (blazeface_nas.yml, blazeface_nas_v2.yml); the
Lite backbone (1.x ``lite_edition``) is not in ppdet 2.x, so :class:`_LiteNet` rebuilds it from ppdet's
``ConvBNLayer``. The tiny profile narrows every width by ``scale`` and scales the anchor sizes with the
input (published for 640 px), as the YOLOv3 anchors are scaled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..cls.models import FILES, missing  # noqa: F401  (re-exported for the dense stages)
from ..det.ssd import VARIANCES, detector, ssd_loss

#: Published BlazeFace anchors: strides of the two outputs and the square anchor sizes (px at 640) of each.
STEPS = [8, 16]
MIN_SIZES_640 = [[16.0, 24.0], [32.0, 48.0, 64.0, 80.0, 96.0, 128.0]]
#: Match IoU of BlazeFace's SSD loss (configs/face_detection/_base_/blazeface.yml).
MATCH_IOU = 0.35

#: Variant -> (blaze_filters, double_blaze_filters) of ppdet's BlazeNet; "lite" is :class:`_LiteNet`.
_FILTERS = {
    None: ([[24, 24], [24, 24], [24, 48, 2], [48, 48], [48, 48]],
           [[48, 24, 96, 2], [96, 24, 96], [96, 24, 96], [96, 24, 96, 2], [96, 24, 96], [96, 24, 96]]),
    "nas": ([[12, 12], [12, 12, 2], [12, 12]], [[12, 16, 24, 2], [24, 12, 24], [24, 16, 72, 2], [72, 12, 72]]),
    "nas_v2": ([[12, 12], [12, 12, 2], [12, 12]], [[12, 16, 32, 2], [32, 32, 32], [32, 16, 72, 2], [72, 24, 72]]),
}
#: BlazeFace-Lite (ppdet 1.x ``Blaze_lite`` blocks): (in, out, stride) after a 5x5 stride-2 stem of 24.
_LITE = ([(24, 24, 1), (24, 28, 1), (28, 32, 2), (32, 36, 1), (36, 42, 1), (42, 48, 2)]
         + [(48 + 8 * i, 56 + 8 * i, 1) for i in range(5)] + [(88, 96, 2)] + [(96, 96, 1)] * 4)


class UnsupportedArch(Exception):
    """The architecture cannot be built here; the message says why in one line."""


def min_sizes(input_size: int) -> list[list[float]]:
    """The published anchor sizes scaled from 640 px to ``input_size``."""
    return [[round(s * input_size / 640, 2) for s in level] for level in MIN_SIZES_640]


def _width(n: int, scale: float) -> int:
    return max(4, int(n * scale))


def _scaled_filters(single: list, double: list, scale: float) -> tuple[list, list]:
    """BlazeNet's filter lists with every channel count (not the strides) times ``scale``."""
    return ([[_width(c, scale) for c in v[:2]] + v[2:] for v in single],
            [[_width(c, scale) for c in v[:3]] + v[3:] for v in double])


def _lite_net(scale: float):
    """ppdet 1.x's BlazeFace-Lite backbone in ppdet 2.x layers: every conv is ConvBN + ReLU (1.x's
    ``_conv_norm`` default), a block adds a (pooled, 1x1-projected where the width changes) shortcut."""
    import paddle
    import paddle.nn.functional as F
    from ppdet.modeling.backbones.blazenet import ConvBNLayer
    from ppdet.modeling.shape_spec import ShapeSpec

    class LiteBlock(paddle.nn.Layer):
        def __init__(self, cin: int, cout: int, stride: int):
            super().__init__()
            self.dw = ConvBNLayer(cin, cin, 3, stride, 1, num_groups=cin)
            self.pw = ConvBNLayer(cin, cout, 1, 1, 0)
            self.pool = paddle.nn.MaxPool2D(stride, stride, ceil_mode=True) if stride > 1 else None
            self.pad = ConvBNLayer(cin, cout, 1, 1, 0) if cin != cout else None

        def forward(self, x):
            y = self.pw(self.dw(x))
            short = self.pool(x) if self.pool is not None else x
            return F.relu(y + (self.pad(short) if self.pad is not None else short))

    class LiteNet(paddle.nn.Layer):
        """Outputs: the last stride-8 block (88 channels at width 1) and the last block (96)."""

        def __init__(self):
            super().__init__()
            w = lambda n: _width(n, scale)  # noqa: E731
            self.conv1 = ConvBNLayer(3, w(24), 5, 2, 2)
            self.blocks = paddle.nn.LayerList([LiteBlock(w(i), w(o), s) for i, o, s in _LITE])
            self.taps = (10, len(_LITE) - 1)
            self._out_channels = [w(_LITE[t][1]) for t in self.taps]

        def forward(self, inputs):
            y, outs = self.conv1(inputs["image"]), []
            for k, block in enumerate(self.blocks):
                y = block(y)
                if k in self.taps:
                    outs.append(y)
            return outs

        @property
        def out_shape(self):
            return [ShapeSpec(channels=c) for c in self._out_channels]

    return LiteNet()


def _backbone(variant: str | None, scale: float, tokens: list[int] | None = None):
    """BlazeNet of ``variant``, or of the NAS space's ``tokens`` (a searched entry's network) when given."""
    if variant == "lite":
        return _lite_net(scale)
    if tokens:
        from .nas import filters

        single, double = _scaled_filters(*filters(tokens), scale)
    elif variant not in _FILTERS:
        raise UnsupportedArch(f"BlazeFace variant {variant!r} is not built (built: lite, "
                              f"{', '.join(str(v) for v in _FILTERS if v)} and the original)")
    else:
        single, double = _scaled_filters(*_FILTERS[variant], scale)
    from ppdet.modeling.backbones.blazenet import BlazeNet

    net = BlazeNet(blaze_filters=single, double_blaze_filters=double, act="relu")
    _full_second_convs(net)
    return net


def _full_second_convs(net) -> None:
    """Make the second 5x5 convolution of every double BlazeBlock a full (ungrouped) one, as in ppdet 1.x,
    whose BlazeFace models the seeds publish: 1.x's ``BlazeBlock`` passes no ``num_groups`` to it; 2.x
    made it depthwise. The published sizes are those of the 1.x layout (BlazeFace 815 KB: 202k
    weights; 2.x's layout has 120k)."""
    from ppdet.modeling.backbones.blazenet import ConvBNLayer

    for block in net.blaze_block:
        for name, layer in list(block.named_children()):
            if name.endswith("2_dw"):  # the 5x5 depthwise conv of a double block
                conv = layer._conv
                full = ConvBNLayer(conv._in_channels, conv._out_channels, 5, 1, 2, name=name)
                block.add_sublayer(name, full)
                block.conv_dw2[block.conv_dw2.index(layer)] = full


def build(arch: dict[str, Any]):
    """A fresh face detector for a resolved ``arch`` (name, variant, scale, classes, input; ``tokens`` of the
    NAS space for a searched network).

    Raises:
        UnsupportedArch: Not an architecture this module builds.
    """
    import paddle

    if arch["name"] != "BlazeFace":
        raise UnsupportedArch(f"{arch['name']}: only BlazeFace face detectors are built")
    from ppdet.modeling.heads.face_head import FaceHead
    from ppdet.modeling.layers import AnchorGeneratorSSD

    with paddle.utils.unique_name.guard():
        backbone = _backbone(arch.get("variant"), arch.get("scale") or 1.0, arch.get("tokens"))
        channels = [s.channels for s in backbone.out_shape]
        anchors = AnchorGeneratorSSD(steps=[float(s) for s in STEPS], aspect_ratios=[[1.0], [1.0]],
                                     min_sizes=min_sizes(arch["input"]), max_sizes=[[], []], offset=0.5,
                                     flip=False, min_max_aspect_ratios_order=False)
        head = FaceHead(num_classes=arch["classes"], in_channels=channels, anchor_generator=anchors,
                        loss=ssd_loss(MATCH_IOU))
        return detector(backbone, head, "blaze_head")


def weight_names(model: Any, static_names: list[str]) -> list[str]:
    """No pruned parameter lists are published for BlazeFace.

    Raises:
        UnsupportedArch: Always.
    """
    raise UnsupportedArch(f"{static_names[0]}: BlazeFace has no published pruned parameter lists")


def onnx_unsupported(info: dict[str, Any]) -> str | None:
    """Why paddle2onnx cannot convert this detector, or None: BlazeFace converts."""
    return None


def describe(arch: dict[str, Any]) -> dict[str, Any]:
    """What model.json records, for :func:`load` and the decoding: the arch (a searched network's tokens
    too) and its anchors."""
    keys = ("name", "variant", "scale", "classes", "input")
    searched = {"tokens": arch["tokens"]} if arch.get("tokens") else {}
    return {**{k: arch.get(k) for k in keys}, **searched, "steps": STEPS, "min_sizes": min_sizes(arch["input"]),
            "variances": VARIANCES}


def load(folder: Path) -> tuple[Any, dict[str, Any]]:
    """The detector a train stage folder holds, with its weights, and its model.json."""
    import paddle

    info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    model = build(info)
    model.set_state_dict(paddle.load(str(folder / "model.pdparams")))
    return model, info
