"""BlazeFace's NAS search space: the channel counts of ppdet 1.x's ``BlazeFaceNasSpace``
(slim/nas/search_space/blazefacespace_nas.py, the space BlazeFace-NAS and BlazeFace-NASV2 were searched
in), for PaddleSlim's simulated-annealing controller (:func:`stages.zoo.cls.nas.search`).

    from stages.zoo.face import nas
    single, double = nas.filters(nas.INIT_TOKENS)   # BlazeFace-NAS's BlazeNet filter lists

Eight tokens: the first blocks' width, the single blocks' width, the two double-block output widths
and the four double blocks' middle widths. ppdet's ninth token (5x5 kernels) is left out: its space
fixes it to 3x3 (a range of one value) for the latency-constrained search that found NASV2.
"""

from __future__ import annotations

#: The choices of each kind of width (ppdet 1.x's arrays).
FIRST = (4, 8, 12, 16, 24, 32)
SINGLE = (8, 12, 16, 24, 32, 40, 48, 64)
MID = (8, 12, 16, 20, 24, 32)
DOUBLE = (8, 12, 16, 24, 32, 40, 48, 64, 72, 80, 88, 96)
#: Token -> the choices it indexes.
RANGES = (FIRST, SINGLE, DOUBLE, DOUBLE, MID, MID, MID, MID)
#: The space's initial tokens (ppdet's ``init_tokens``): BlazeFace-NAS.
INIT_TOKENS = [2, 1, 3, 8, 2, 1, 2, 1]
NAME = "BlazeFaceNasSpace"


def filters(tokens: list[int]) -> tuple[list[list[int]], list[list[int]]]:
    """BlazeNet's ``blaze_filters`` and ``double_blaze_filters`` for ``tokens`` (ppdet's ``get_nas_cnf``).

    Raises:
        ValueError: Not eight tokens, or one out of its range.
    """
    if len(tokens) != len(RANGES) or any(not 0 <= t < len(r) for t, r in zip(tokens, RANGES)):
        raise ValueError(f"{NAME} tokens must be {len(RANGES)} indices below {[len(r) for r in RANGES]}, "
                         f"got {list(tokens)}")
    first, single, d1, d2, m1, m2, m3, m4 = (r[t] for r, t in zip(RANGES, tokens))
    return ([[first, first], [first, single, 2], [single, single]],
            [[single, m1, d1, 2], [d1, m2, d1], [d1, m3, d2, 2], [d2, m4, d2]])


def register() -> None:
    """Make :data:`NAME` a PaddleSlim search space (its controller walks a space's ``range_table`` from
    its ``init_tokens``); PaddleSlim itself does not ship it. Idempotent."""
    from .. import runtime

    runtime.shim_paddle()
    from paddleslim.nas.search_space import SEARCHSPACE
    from paddleslim.nas.search_space.search_space_base import SearchSpaceBase

    if SEARCHSPACE.get(NAME) is not None:
        return

    class BlazeFaceNasSpace(SearchSpaceBase):
        def init_tokens(self):
            return list(INIT_TOKENS)

        def range_table(self):
            return [len(r) for r in RANGES]

        def token2arch(self, tokens=None):
            return filters(tokens if tokens is not None else INIT_TOKENS)

    SEARCHSPACE.register(BlazeFaceNasSpace)

