"""Build a registered semantic segmentation architecture from PaddleSeg's own models.

    model = build({"name": "DeepLabV3P", "backbone": "MobileNetV2", "classes": 11, "input": 64, "scale": 0.25})

The tiny profile narrows the backbone by ``scale``; at ``scale`` 1 the model is PaddleSeg's as
its Cityscapes configs build it. PaddleSeg's UNet and Xception65 have no width multiplier, and at full
width they train at ~7 s per 16-crop step on 2 cores (70 min for the tiny profile), so below scale 1
they are rebuilt narrower from PaddleSeg's own blocks (:func:`_narrow_unet`, :func:`_narrow_xception65`).
PaddleSeg has no MobileNetV1, so DeepLabv3+/MobileNetV1 (a model of
PaddleSeg's static-graph days) takes ppdet's MobileNet, whose four outputs have the strides of
PaddleSeg's MobileNetV2 (4, 8, 16, 32).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# A seg train stage folder has the classification layout: model.json (what :func:`build` needs) and
# the float weights; the file list and its check are those of the classification models.
from ..cls.models import FILES, missing  # noqa: F401  (re-exported for the seg stages)


class UnsupportedArch(Exception):
    """The architecture cannot be built here; the message says why in one line."""


def _mobilenet_v1(scale: float):
    from ppdet.modeling.backbones.mobilenet_v1 import MobileNet

    class MobileNetV1(MobileNet):
        """ppdet's MobileNet as a PaddleSeg backbone: image -> four maps, ``feat_channels``. A subclass, not a
        wrapper, so its tensors keep ppdet's keys and ppdet's published ImageNet weights (the full profile's
        ``weights``) load into it."""

        def __init__(self):
            super().__init__(scale=scale, feature_maps=[2, 4, 6, 13])
            self.feat_channels = [s.channels for s in self.out_shape]

        def forward(self, x):
            return super().forward({"image": x})

    return MobileNetV1()


def _width(scale: float):
    """One channel count times ``scale``, at least 4 (a narrow build keeps every layer)."""
    return lambda channels: max(4, int(channels * scale))


def _narrow_xception65(scale: float):
    """PaddleSeg's Xception65_deeplab (output stride 16) with every width times ``scale``: its
    ``__init__`` with the channel counts of ``gen_bottleneck_params("xception_65")`` scaled."""
    import paddle
    from paddleseg.models.backbones import xception_deeplab as xd

    w, name = _width(scale), "xception_65"

    class NarrowXception65(xd.XceptionDeeplab):
        def __init__(self):
            paddle.nn.Layer.__init__(self)  # not XceptionDeeplab's: it builds the full widths
            self.backbone, self.pretrained, self.feat_channels = name, None, [w(128), w(2048)]
            self._conv1 = xd.ConvBNLayer(3, w(32), 3, stride=2, padding=1, act="relu", name=f"{name}/entry_flow/conv1")
            self._conv2 = xd.ConvBNLayer(w(32), w(64), 3, stride=1, padding=1, act="relu",
                                         name=f"{name}/entry_flow/conv2")
            entry = [w(64), w(128), w(256), w(728)]  # every entry block strides 2, as PaddleSeg's
            self.entry_flow = [self.add_sublayer(f"{name}/entry_flow/block{i + 1}", xd.Xception_Block(
                entry[i], entry[i + 1], strides=[1, 1, 2], name=f"{name}/entry_flow/block{i + 1}")) for i in range(3)]
            self.middle_flow = [self.add_sublayer(f"{name}/middle_flow/block{i + 1}", xd.Xception_Block(
                w(728), w(728), strides=[1, 1, 1], skip_conv=False, name=f"{name}/middle_flow/block{i + 1}"))
                for i in range(16)]
            self._exit_flow_1 = xd.Xception_Block(w(728), [w(728), w(1024), w(1024)], [1, 1, 1],
                                                  name=f"{name}/exit_flow/block1")
            self._exit_flow_2 = xd.Xception_Block(w(1024), [w(1536), w(1536), w(2048)], [1, 1, 1], dilation=2,
                                                  has_skip=False, activation_fn_in_separable_conv=True,
                                                  name=f"{name}/exit_flow/block2")

    return NarrowXception65()


def _narrow_unet(classes: int, scale: float):
    """PaddleSeg's UNet with every width times ``scale``: its encoder, decoder and classifier rebuilt
    with the channel lists of ``paddleseg.models.unet`` scaled."""
    from paddle import nn
    from paddleseg.models import UNet, layers, unet

    w = _width(scale)
    model = UNet(classes)
    model.encode.double_conv = nn.Sequential(layers.ConvBNReLU(3, w(64), 3), layers.ConvBNReLU(w(64), w(64), 3))
    model.encode.down_sample_list = nn.LayerList([model.encode.down_sampling(w(a), w(b))
                                                  for a, b in ((64, 128), (128, 256), (256, 512), (512, 512))])
    model.decode.up_sample_list = nn.LayerList([unet.UpSampling(w(a), w(b), False)
                                                for a, b in ((512, 256), (256, 128), (128, 64), (64, 64))])
    model.cls = model.conv = nn.Conv2D(w(64), classes, 3, padding=1)
    return model


def _backbone(name: str, scale: float):
    from paddleseg.models.backbones import mobilenetv2, mobilenetv3, xception_deeplab

    if name == "MobileNetV1":
        return _mobilenet_v1(scale)
    if name == "MobileNetV2":
        return mobilenetv2.MobileNetV2(scale=scale)
    if name == "MobileNetV3_large":
        return mobilenetv3.MobileNetV3(config=mobilenetv3.NET_CONFIG["large"], out_index=mobilenetv3.OUT_INDEX["large"],
                                       stages_pattern=mobilenetv3.MODEL_STAGES_PATTERN["MobileNetV3_large"],
                                       scale=scale)
    if name == "Xception65":
        return xception_deeplab.Xception65_deeplab() if scale == 1 else _narrow_xception65(scale)
    raise UnsupportedArch(f"DeepLabV3P backbone {name!r} is not built yet")


def _hrnet_w18(scale: float):
    from paddleseg.models.backbones import hrnet

    width = _width(scale)

    def w(*channels):
        return tuple(map(width, channels))

    return hrnet.HRNet(stage1_num_channels=w(64), stage2_num_channels=w(18, 36),
                       stage3_num_channels=w(18, 36, 72), stage4_num_channels=w(18, 36, 72, 144))


def build(arch: dict[str, Any]):
    """A fresh segmenter for a resolved ``arch`` (name, backbone, scale, classes).

    Raises:
        UnsupportedArch: Not an architecture this module builds (yet).
    """
    import paddle
    from paddleseg import models

    scale, classes = arch.get("scale") or 1.0, arch["classes"]
    with paddle.utils.unique_name.guard():
        if arch["name"] == "DeepLabV3P":
            # the decoder's widths are fixed (48 + 256 in), so only the backbone narrows; it takes the
            # finest (stride 4) and the last map (Xception65 returns only those two)
            backbone = _backbone(arch["backbone"], scale)
            return models.DeepLabV3P(classes, backbone, backbone_indices=(0, len(backbone.feat_channels) - 1))
        if arch["name"] == "UNet":
            return models.UNet(classes) if scale == 1 else _narrow_unet(classes, scale)
        if arch["name"] == "FastSCNN":  # fixed widths too
            return models.FastSCNN(classes, enable_auxiliary_loss=False)
        if arch["name"] == "FCN" and arch.get("backbone") == "HRNet_W18_C":
            return models.FCN(classes, _hrnet_w18(scale), backbone_indices=(-1,))
    raise UnsupportedArch(f"{arch['name']} ({arch.get('backbone')}) is not built yet "
                          "(built: DeepLabV3P, FastSCNN, UNet, FCN/HRNet_W18_C)")


def onnx_unsupported(info: dict[str, Any]) -> str | None:
    """Why paddle2onnx cannot convert this segmenter with a free input size, or None if it can."""
    if info["name"] == "FastSCNN":
        return ("paddle2onnx 2.1: FastSCNN's pyramid pooling (adaptive pool2d to 2, 3, 6) "
                "needs a static input shape")
    return None


def describe(arch: dict[str, Any]) -> dict[str, Any]:
    """What model.json records, for :func:`load`."""
    return {k: arch.get(k) for k in ("name", "backbone", "scale", "classes", "input")}


def load(folder: Path) -> tuple[Any, dict[str, Any]]:
    """The segmenter a seg train stage folder holds, with its weights, and its model.json."""
    import paddle

    info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    model = build(info)
    model.set_state_dict(paddle.load(str(folder / "model.pdparams")))
    return model, info
