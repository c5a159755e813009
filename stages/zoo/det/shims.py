"""Compatibility shims that only the detection stages need.

They belong in :mod:`stages.zoo.runtime` with the others; that module is a dependency of every
classification chain, so they move there with the next change that re-runs those chains anyway.
"""

from __future__ import annotations


def shim_leaky_relu() -> None:
    """paddle2onnx 2.1 writes an old-IR ``leaky_relu`` with ``alpha`` 0.0 (the attribute is lost, as
    with interpolation's scale, see runtime._shim_interpolate): ppdet's DarkNet blocks, used by every
    YOLOv3 neck, then export as ReLU. While exporting (old-IR static mode) it becomes
    ``relu(x) - alpha * relu(-x)``, the same function (old-IR ``maximum`` cannot take two variables)."""
    import paddle

    functional = paddle.nn.functional
    if getattr(functional.leaky_relu, "_slimzoo_shim", False):
        return
    leaky_relu = functional.leaky_relu

    def _leaky_relu(x, negative_slope=0.01, name=None):
        static = not paddle.in_dynamic_mode() and not paddle.framework.in_pir_mode()
        if static:
            return functional.relu(x) - negative_slope * functional.relu(-x)
        return leaky_relu(x, negative_slope, name)

    _leaky_relu._slimzoo_shim = True
    functional.leaky_relu = functional.activation.leaky_relu = _leaky_relu
