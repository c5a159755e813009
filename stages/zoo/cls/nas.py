"""Networks of PaddleSlim's NAS search spaces, as dygraph layers.

PaddleSlim 2.6 defines ``MobileNetV2Space`` and ``DartsSpace`` (tokens, ranges, ``token2arch``) but
builds their networks only as old static-graph programs, which the rest of this pipeline (dygraph
pruning, QAT, ``paddle.jit.save`` export) cannot take. ``token2arch`` still decodes the tokens into
PaddleSlim's own ``bottleneck_params_list``; the layers below build exactly the network its static
``net_arch`` would, from that list.

    from stages.zoo.cls import nas
    model = nas.build("MobileNetV2Space", tokens, scale=1.0, classes=1000)
"""

from __future__ import annotations

from typing import Any, Optional

#: Registry architectures that are a search space's network at its initial tokens.
ARCH_SPACES = {"DARTS": "DartsSpace"}
#: The search space whose initial tokens give each searchable registry architecture.
_SEARCHABLE = {"MobileNetV2": "MobileNetV2Space", **ARCH_SPACES}


def space_of(arch: str) -> str:
    """The search space of registry architecture ``arch`` (for an entry with searched tokens)."""
    if arch not in _SEARCHABLE:
        raise ValueError(f"{arch}: no search space builds this architecture (known: {', '.join(_SEARCHABLE)})")
    return _SEARCHABLE[arch]


def space(name: str, input_size: int = 224, classes: int = 1000) -> Any:
    """PaddleSlim's search space ``name`` (its tokens, ranges and decoding)."""
    from .. import runtime

    runtime.shim_paddle()
    from paddleslim.nas.search_space import SEARCHSPACE

    return SEARCHSPACE.get(name)(input_size, classes, None, None)


def blocks(name: str, tokens: Optional[list[int]]) -> list[tuple]:
    """The decoded tokens (the space's initial ones when None): PaddleSlim's bottleneck list."""
    sp = space(name)
    sp.token2arch(list(tokens) if tokens is not None else None)
    return [tuple(int(v) for v in row) for row in sp.bottleneck_params_list]


def build(name: str, tokens: Optional[list[int]], scale: float, classes: int):
    """The network of search space ``name`` for ``tokens`` at width ``scale``."""
    import paddle

    from . import nas_layers

    rows = blocks(name, tokens)
    with paddle.utils.unique_name.guard():
        if name == "MobileNetV2Space":
            return nas_layers.MobileNetV2Net(rows, scale, classes)
        if name == "DartsSpace":
            return nas_layers.DartsNet(rows, scale, classes)
    raise ValueError(f"{name}: no dygraph network for this search space")


MAX_DRAWS = 200  # candidates drawn per search iteration until one meets the constraint


def search(name: str, score: Any, fits: Any, iters: int, seed: int,
           init: Optional[list[int]] = None) -> dict[str, Any]:
    """SANAS: PaddleSlim's simulated-annealing controller over the space's tokens.

    PaddleSlim 2.6's controller no longer applies its ``constrain_func``, so it is applied here as
    SANAS did: candidates are drawn until one meets the constraint; each rejected one is reported
    with reward -1 (the walk goes on from it while nothing fits, so a target far from ``init`` is
    reached step by step).

    Args:
        score: ``tokens -> float`` reward (accuracy after a short training).
        fits: ``tokens -> (bool, float)``: whether the candidate meets the constraint, and the
            constrained figure (recorded in the trace).
        init: First candidate (the space's initial tokens when None).

    Returns:
        ``tokens`` (the best candidate) and ``trace`` (tokens, figure, reward, rejected draws per
        scored candidate).
    """
    import numpy as np

    from .. import runtime

    runtime.shim_paddle()
    from paddleslim.common import SAController

    sp = space(name)
    np.random.seed(seed)  # SAController draws its mutations from numpy's global generator
    table = sp.range_table()
    controller = SAController(range_table=([0] * len(table), list(table)), reduce_rate=0.85,
                              init_tokens=list(init or sp.init_tokens()))
    tokens, trace, best, step = list(controller._current_tokens), [], (-1.0, None), 0
    for it in range(iters):
        for rejected in range(MAX_DRAWS):
            ok, figure = fits(tokens)
            if ok:
                break
            controller.update(tokens, -1.0, step)
            tokens, step = controller.next_tokens(), step + 1
        else:
            raise ValueError(f"{name}: no candidate in {MAX_DRAWS} draws met the constraint")
        reward = float(score(tokens))
        trace.append({"iter": it, "tokens": [int(t) for t in tokens], "constraint": figure, "reward": reward,
                      "rejected": rejected})
        if reward > best[0]:
            best = (reward, [int(t) for t in tokens])
        controller.update(tokens, reward, step)
        tokens, step = controller.next_tokens(), step + 1
    return {"tokens": best[1], "trace": trace}
