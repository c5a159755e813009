"""Channel pruning with PaddleSlim's dygraph filter pruners (physically smaller convolutions).

``l1_norm`` uses L1NormFilterPruner, ``geometry_median`` FPGMFilterPruner. The pruner follows the
dependent layers itself (depthwise convolutions, batch norms, residual groups).
"""

from __future__ import annotations

from typing import Any

from ..bench import model_stats


def prunable(model: Any) -> list[str]:
    """Weights of the ordinary (ungrouped) convolutions: what a uniform ratio applies to."""
    import paddle

    return [m.weight.name for m in model.sublayers() if isinstance(m, paddle.nn.Conv2D) and m._groups == 1]


def _pruner(model: Any, input_size: int, criterion: str):
    from .. import runtime

    runtime.shim_paddle()
    from paddleslim.dygraph import FPGMFilterPruner, L1NormFilterPruner

    cls = FPGMFilterPruner if criterion == "geometry_median" else L1NormFilterPruner
    return cls(model, [1, 3, input_size, input_size])


def uniform_ratio_for(model: Any, input_size: int, target: float, criterion: str = "l1_norm",
                      steps: int = 12) -> float:
    """The uniform filter ratio whose pruning removes ``target`` of the MACs (bisection)."""
    base = model_stats(model, input_size)["macs"]
    names = prunable(model)
    low, high = 0.0, 0.95
    for _ in range(steps):
        mid = (low + high) / 2
        pruner = _pruner(model, input_size, criterion)
        pruner.prune_vars({n: mid for n in names}, [0])
        reduction = 1 - model_stats(model, input_size)["macs"] / base
        pruner.restore()
        low, high = (mid, high) if reduction < target else (low, mid)
    return (low + high) / 2


def prune_uniform(model: Any, input_size: int, ratio: float | None = None, target: float | None = None,
                  criterion: str = "l1_norm") -> dict[str, float]:
    """Prune every ordinary convolution by one ratio (given, or found for a MACs reduction target).

    Returns:
        ``ratio``, ``macs_before``, ``macs_after`` and the achieved ``flops_reduction``.
    """
    if (ratio is None) == (target is None):
        raise ValueError("give exactly one of ratio and target")
    before = model_stats(model, input_size)["macs"]
    if ratio is None:
        ratio = uniform_ratio_for(model, input_size, target, criterion)
    _pruner(model, input_size, criterion).prune_vars({n: ratio for n in prunable(model)}, [0])
    after = model_stats(model, input_size)["macs"]
    return {"ratio": ratio, "macs_before": before, "macs_after": after, "flops_reduction": 1 - after / before}
