"""Build a registered classification architecture with PaddleClas' own constructors.

PaddleClas exposes one constructor per width (``MobileNetV1_x0_25``, ``ShuffleNetV2_x0_5``, ...);
:func:`constructor` picks the one for ``arch.scale``, or the nearest that exists.
"""

from __future__ import annotations

import re
from typing import Any

from .. import runtime

#: Registry name -> PaddleClas constructor prefix, for architectures that come in several widths.
_SCALED = {
    "MobileNetV1": "MobileNetV1",
    "MobileNetV2": "MobileNetV2",
    "MobileNetV3_large": "MobileNetV3_large",
    "MobileNetV3_small": "MobileNetV3_small",
    "ShuffleNetV2": "ShuffleNetV2",
}


class UnsupportedArch(Exception):
    """The architecture cannot be built here; the message says why in one line."""


def _widths(backbones: Any, prefix: str) -> dict[float, str]:
    found = {}
    for name in dir(backbones):
        m = re.fullmatch(rf"{prefix}_x(\d+)_(\d+)", name)
        if m:
            found[float(f"{m.group(1)}.{m.group(2)}")] = name
    if hasattr(backbones, prefix) and 1.0 not in found:
        found[1.0] = prefix
    return found


def constructor(name: str, scale: float) -> tuple[str, float]:
    """PaddleClas constructor name for ``name`` at width ``scale``, and the width it builds.

    Raises:
        UnsupportedArch: PaddleClas has no such architecture.
    """
    backbones = runtime.ppcls_backbones()
    if name in _SCALED:
        widths = _widths(backbones, _SCALED[name])
        nearest = min(widths, key=lambda w: (abs(w - scale), w))
        return widths[nearest], nearest
    if not hasattr(backbones, name):
        raise UnsupportedArch(f"{name}: PaddleClas 2.6 has no such backbone")
    return name, 1.0


def build(arch: dict[str, Any]):
    """A fresh model for a resolved ``arch`` (name, scale, classes).

    Built under a fresh ``unique_name`` scope: several PaddleClas models use fixed parameter names,
    which would clash with a model built earlier in the same process.
    """
    import paddle

    ctor, _ = constructor(arch["name"], arch.get("scale") or 1.0)
    with paddle.utils.unique_name.guard():
        return getattr(runtime.ppcls_backbones(), ctor)(class_num=arch["classes"])


def build_from(info: dict[str, Any]):
    """The model that ``model.json`` (train or compress stage) describes, without weights.

    A pruned model is the constructor's, pruned again by the recorded per-weight ratios: the
    filter counts (not which filters) depend only on the ratios, and the weights are loaded after.
    """
    import paddle

    with paddle.utils.unique_name.guard():
        model = getattr(runtime.ppcls_backbones(), info["constructor"])(class_num=info["classes"])
    if info.get("pruned"):
        from ..compress.prune import apply_ratios

        apply_ratios(model, info["input"], info["pruned"])
    return model
