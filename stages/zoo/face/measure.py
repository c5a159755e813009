"""What the benchmark stage measures for a face detector: stages/zoo/measure.py's figures, with the
WIDER FACE Easy / Medium / Hard AP as the scores."""

from __future__ import annotations

#: The seeds publish BlazeFace at 640 px only (the entry's paper input).
PAPER_SIZES = (640,)
#: The scores the stages print.
HEADLINE = ("easy", "medium", "hard")


def finish(figures: dict) -> None:
    """Nothing to rename: the seeds publish Easy/Medium/Hard AP as measured."""
