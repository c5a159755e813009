"""Mask RCNN from ppdet's layers (:mod:`..det.rcnn`, which builds the three RCNNs): the instance segmentation
task's ``models`` module for the dense stages, the detection package's functions on ``MaskRCNN`` only."""

from __future__ import annotations

from typing import Any

from ..det.models import (FILES, UnsupportedArch, describe, export_batch, load, missing,  # noqa: F401
                          onnx_unsupported)
from ..det.models import build as _build

#: The architecture this task builds.
NAME = "MaskRCNN"


def build(arch: dict[str, Any]):
    """A fresh Mask RCNN for a resolved ``arch``.

    Raises:
        UnsupportedArch: Not a Mask RCNN, or one the detection package does not build (yet).
    """
    if arch["name"] != NAME:
        raise UnsupportedArch(f"{arch['name']}: instance segmentation builds {NAME} only")
    return _build(arch)
