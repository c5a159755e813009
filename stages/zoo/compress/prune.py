"""Channel pruning with PaddleSlim's dygraph filter pruners (physically smaller convolutions).

``l1_norm`` uses L1NormFilterPruner, ``geometry_median`` FPGMFilterPruner. The pruner follows the
dependent layers itself (depthwise convolutions, batch norms, residual groups).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, Iterator

from ..bench import model_stats


def prunable(model: Any) -> list[str]:
    """Weights of the ordinary (ungrouped) convolutions: what a uniform ratio applies to."""
    import paddle

    return [m.weight.name for m in model.sublayers() if isinstance(m, paddle.nn.Conv2D) and m._groups == 1]


def _pruner(model: Any, input_size: int, criterion: str):
    from .. import runtime

    runtime.shim_paddle()
    runtime.shim_paddleslim_graph()
    from paddleslim.dygraph import FPGMFilterPruner, L1NormFilterPruner

    cls = FPGMFilterPruner if criterion == "geometry_median" else L1NormFilterPruner
    training = model.training
    model.eval()  # the pruner traces a forward, and in train mode ppdet's YOLOv3 head wants loss targets
    try:
        return cls(model, [1, 3, input_size, input_size])
    finally:
        model.train(training)


@contextlib.contextmanager
def _trial(pruner: Any, model: Any, input_size: int, ratios: dict[str, float]) -> Iterator[int]:
    """``model`` pruned by ``ratios`` inside the block and restored after; yields the MACs left."""
    plan = pruner.prune_vars(ratios, [0])
    try:
        yield model_stats(model, input_size)["macs"]
    finally:
        plan.restore(model)


def uniform_ratio_for(model: Any, input_size: int, target: float, criterion: str = "l1_norm",
                      steps: int = 12) -> float:
    """The uniform filter ratio whose pruning removes ``target`` of the MACs (bisection)."""
    base = model_stats(model, input_size)["macs"]
    names = prunable(model)
    pruner = _pruner(model, input_size, criterion)
    low, high = 0.0, 0.95
    for _ in range(steps):
        mid = (low + high) / 2
        with _trial(pruner, model, input_size, {n: mid for n in names}) as macs:
            reduction = 1 - macs / base
        low, high = (mid, high) if reduction < target else (low, mid)
    return (low + high) / 2


def apply_ratios(model: Any, input_size: int, ratios: dict[str, float], criterion: str = "l1_norm") -> None:
    """Prune ``model`` in place by per-weight filter ratios (also how a saved pruned model is rebuilt:
    the shapes depend on the ratios only). The pruning is final: :func:`_drop_backups`."""
    _pruner(model, input_size, criterion).prune_vars(dict(ratios), [0])
    _drop_backups(model)


def _drop_backups(model: Any) -> None:
    """Remove the copies of the unpruned tensors that PaddleSlim's pruner keeps as layer buffers (to undo
    a plan). Why: they went into every saved state dict (a narrowed ResNet34's model.pdparams held its
    full-width tensors: 90 MB), and a later trial's restore (uniform or auto ratio search, sensitivity)
    brought back the earlier, larger shapes (PaddleSlim keeps the first backup it finds)."""
    for layer in model.sublayers(include_self=True):
        for name in [n for n in layer._buffers if n.endswith("_backup")]:
            del layer._buffers[name]


def prune_ratios(model: Any, input_size: int, ratios: dict[str, float], criterion: str = "l1_norm") -> dict[str, Any]:
    """Prune ``model`` in place by per-weight ratios, choosing the filters by ``criterion``.

    Returns:
        ``ratios``, ``macs_before``, ``macs_after`` and the achieved ``flops_reduction``.
    """
    before = model_stats(model, input_size)["macs"]
    apply_ratios(model, input_size, ratios, criterion)
    after = model_stats(model, input_size)["macs"]
    return {"ratios": dict(ratios), "macs_before": before, "macs_after": after, "flops_reduction": 1 - after / before}


def prune_uniform(model: Any, input_size: int, ratio: float | None = None, target: float | None = None,
                  criterion: str = "l1_norm") -> dict[str, Any]:
    """Prune every ordinary convolution by one ratio (given, or found for a MACs reduction target).

    Returns:
        ``ratio`` and what :func:`prune_ratios` returns.
    """
    if (ratio is None) == (target is None):
        raise ValueError("give exactly one of ratio and target")
    if ratio is None:
        ratio = uniform_ratio_for(model, input_size, target, criterion)
    return {"ratio": ratio, **prune_ratios(model, input_size, {n: ratio for n in prunable(model)}, criterion)}


def aligned(model: Any, ratios: dict[str, float], multiple: int = 8) -> dict[str, float]:
    """``ratios`` moved so that each pruned weight keeps a multiple of ``multiple`` filters (at least
    one multiple): ONNX Runtime's convolutions take a slower path on other channel counts (MobileNetV1
    at 224 px pruned 50% uniformly ran slower than unpruned in ORT, and faster than it when aligned)."""
    filters = {p.name: p.shape[0] for p in model.parameters() if p.name in ratios}
    kept = {n: max(multiple, round(filters[n] * (1 - r) / multiple) * multiple) for n, r in ratios.items()}
    return {n: max(0.0, (filters[n] - kept[n]) / filters[n]) for n in ratios}


def sensitivities(model: Any, input_size: int, evaluate: Callable[[], float], criterion: str = "l1_norm",
                  workdir: Path | None = None, names: list[str] | None = None) -> dict[str, dict[str, float]]:
    """PaddleSlim's sensitivity analysis: the relative metric loss of pruning each weight alone by
    10%, 20%, ... 90% of its filters (``{weight: {ratio: loss}}``), for ``names`` (default: every
    ordinary convolution)."""
    import tempfile

    pruner = _pruner(model, input_size, criterion)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:  # PaddleSlim checkpoints its progress as a pickle
        found = pruner.sensitive(eval_func=evaluate, sen_file=str(Path(tmp) / "sensitivities.pickle"),
                                 target_vars=names or prunable(model))
    return {name: {f"{float(r):.1f}": float(loss) for r, loss in sorted(by.items())} for name, by in found.items()}


TIE = 1e-3  # loss added per unit of ratio, so that flat sensitivities still order the ratios


def _monotone(by_ratio: dict[str, float]) -> dict[float, float]:
    """Sensitivities as PaddleSlim's threshold search needs them: non-decreasing in the ratio.

    Measured losses can fall as the ratio grows (noise; a model near chance gains from pruning), and
    with losses <= 0 everywhere every threshold picks 90% for every weight, far past the FLOPs
    target. The running maximum plus a small tie-break keeps the search continuous.
    """
    out, envelope = {}, 0.0
    for ratio in sorted(by_ratio, key=float):
        envelope = max(envelope, by_ratio[ratio])
        out[float(ratio)] = envelope + TIE * float(ratio)
    return out


def prune_sensitive(model: Any, input_size: int, found: dict[str, dict[str, float]], target: float,
                    criterion: str = "l1_norm", steps: int = 30) -> dict[str, Any]:
    """Prune by the ratios that ``found`` sensitivities give for a FLOPs reduction target.

    As PaddleSlim's ``get_ratios_by_sensitivity``: one loss threshold for every weight, each weight
    pruned by the largest ratio whose loss stays under it (interpolated, PaddleSlim's own
    ``_get_ratios_by_loss``), the threshold bisected until the FLOPs match. PaddleSlim's bisection
    stops as soon as two thresholds give the same FLOPs, which it does at once on flat
    sensitivities; this one bisects between the smallest and largest loss instead.

    Returns:
        ``threshold`` and what :func:`prune_ratios` returns.
    """
    before = model_stats(model, input_size)["macs"]
    pruner = _pruner(model, input_size, criterion)
    sens = {name: _monotone(by) for name, by in found.items()}
    losses = [v for by in sens.values() for v in by.values()]
    low, high = min(losses) - TIE, max(losses)

    def ratios_at(threshold: float) -> dict[str, float]:
        return {n: float(r) for n, r in pruner._get_ratios_by_loss(sens, threshold).items()}

    for _ in range(steps):
        mid = (low + high) / 2
        with _trial(pruner, model, input_size, ratios_at(mid)) as macs:
            reduction = 1 - macs / before
        low, high = (mid, high) if reduction < target else (low, mid)
    # the smallest threshold found that reaches the target
    return {"threshold": high, **prune_ratios(model, input_size, ratios_at(high), criterion)}


RATIO_STEP = 0.05  # auto pruning searches ratios on this grid, up to MAX_RATIO
MAX_RATIO = 0.9


def search_ratios(model: Any, input_size: int, evaluate: Callable[[], float], target: float, iters: int,
                  criterion: str = "l1_norm", seed: int = 0) -> dict[str, Any]:
    """Auto pruning: PaddleSlim's simulated-annealing controller (``SAController``, as its AutoPruner)
    searches per-weight ratios that remove at least ``target`` of the MACs, rewarded by ``evaluate``
    of the pruned model without fine-tuning. Starts from the uniform ratio for the target.

    Returns:
        ``ratios`` (the best found) and ``trace``: one record per iteration (tokens, reduction, reward).
    """
    import numpy as np

    from .. import runtime

    runtime.shim_paddle()
    from paddleslim.common import SAController

    names = prunable(model)
    base = model_stats(model, input_size)["macs"]
    steps = int(round(MAX_RATIO / RATIO_STEP))
    start = int(np.ceil(uniform_ratio_for(model, input_size, target, criterion) / RATIO_STEP))

    np.random.seed(seed)  # SAController draws its mutations from numpy's global generator
    # PaddleSlim 2.6's SAController no longer applies its constrain_func: a candidate under the
    # target is rejected here, with reward -1 and no evaluation
    controller = SAController(range_table=([0] * len(names), [steps + 1] * len(names)), reduce_rate=0.85,
                              init_tokens=[min(start, steps)] * len(names))
    trace, best = [], (-1.0, None)
    tokens = controller._current_tokens
    pruner = _pruner(model, input_size, criterion)
    for it in range(iters):
        with _trial(pruner, model, input_size, {n: t * RATIO_STEP for n, t in zip(names, tokens)}) as macs:
            achieved = 1 - macs / base
            reward = float(evaluate()) if achieved >= target else -1.0
        trace.append({"iter": it, "tokens": [int(t) for t in tokens], "flops_reduction": achieved, "reward": reward})
        if reward > best[0]:
            best = (reward, list(tokens))
        controller.update(tokens, reward, it)
        tokens = controller.next_tokens()
    return {"ratios": {n: t * RATIO_STEP for n, t in zip(names, best[1])}, "trace": trace}
