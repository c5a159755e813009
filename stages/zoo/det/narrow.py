"""Narrow a one-width ppdet backbone (the ResNets, DarkNet53) to the tiny profile's width ``scale``, in place, as
the one-width classifiers are (:func:`..cls.models.narrow`: PaddleSlim's L1-norm filter pruner on a traced
forward), and by hand where that tracer passes over a layer: ppdet's deformable convolutions.

    body = models.backbone("ResNet50_vd", 1.0, dcn=True); narrow(body, 0.25)
"""

from __future__ import annotations

from typing import Any

import numpy as np


def narrow(body: Any, scale: float) -> None:
    """Keep ``scale`` of every convolution's filters in ``body`` and make its ``out_shape`` say the narrowed
    channels (ppdet builds the FPN and heads from it)."""
    import paddle

    from ..cls.models import narrow as narrow_classifier

    class Traced(paddle.nn.Layer):
        """A tensor-in forward for PaddleSlim's tracer (ppdet's backbones take a dict), with a pooled linear
        layer on each output map: the pruner leaves whole the filters of maps that nothing consumes."""

        def __init__(self):
            super().__init__()
            self.body = body
            self.heads = paddle.nn.LayerList([paddle.nn.Linear(s.channels, 1) for s in body.out_shape])

        def forward(self, x):
            pool = paddle.nn.functional.adaptive_avg_pool2d
            pooled = [paddle.flatten(pool(f, 1), 1) for f in self.body({"image": x})]
            return paddle.add_n([head(p) for head, p in zip(self.heads, pooled)])

    # in a name scope of its own: the tracer restarts the names, and the layers built after (neck, head) must
    # not reuse the backbone's (AdamW keys its moments by name)
    with paddle.utils.unique_name.guard():
        narrow_classifier(Traced(), 64, scale)
    _deformable(body, scale)
    with paddle.no_grad():
        channels = [f.shape[1] for f in body({"image": paddle.zeros([1, 3, 64, 64])})]
    if len(body._out_channels) == len(channels):  # DarkNet lists its returned maps' channels
        body._out_channels = channels
    else:  # ResNet lists every stage's
        for i, c in zip(body.return_idx, channels):
            body._out_channels[i] = c


def _deformable(body: Any, scale: float) -> None:
    """Narrow the bottlenecks whose middle convolution is deformable (ppdet's ``dcn_v2`` ``ConvNormLayer``).
    PaddleSlim's tracer does not know the deformable_conv op, so it leaves whole that convolution and the one
    that feeds it (their filters and batch norms); the block's input and output it narrowed with the rest.
    Here each of the two keeps ``scale`` of its filters (largest L1 norm, as the pruner), and the layers that
    read them (the offsets' convolution, the deformable one, the block's last) keep the matching inputs.
    Once, on the backbone :func:`narrow` was given whole."""
    for block in body.sublayers():
        mid = getattr(block, "branch2b", None)
        if not getattr(mid, "dcn_v2", False):
            continue
        kept = _filters(block.branch2a, scale)
        _take(mid.conv_offset.weight, kept, 1)
        _take(mid.conv.weight, kept, 1)
        _take(block.branch2c.conv.weight, _filters(mid, scale), 1)


def _filters(layer: Any, scale: float) -> np.ndarray:
    """Keep ``scale`` of a ``ConvNormLayer``'s filters (largest L1 norm; as many as PaddleSlim keeps at ratio
    1 - ``scale``) and their batch-norm channels; returns the kept indices, in order."""
    weight = layer.conv.weight.numpy()
    n = weight.shape[0]
    kept = np.sort(np.argsort(-np.abs(weight).reshape(n, -1).sum(1), kind="stable")[:n - round(n * (1 - scale))])
    _take(layer.conv.weight, kept, 0)
    for tensor in (layer.norm.weight, layer.norm.bias, layer.norm._mean, layer.norm._variance):
        _take(tensor, kept, 0)
    return kept


def _take(tensor: Any, indices: np.ndarray, axis: int) -> None:
    """Shrink a parameter or buffer in place to ``indices`` along ``axis`` (its shape changes, as PaddleSlim's
    pruner does it: ``set_value`` keeps shapes)."""
    import paddle

    value = tensor.value().get_tensor()
    place = paddle.framework.core.Place()
    place.set_place(value._place())  # set() takes a CPU or CUDA place, not the tensor's generic one
    place = paddle.CPUPlace() if place.is_cpu_place() else paddle.CUDAPlace(place.gpu_device_id())
    value.set(np.take(np.array(value), indices, axis=axis), place)
