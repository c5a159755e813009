"""What the benchmark stage measures for an instance segmenter: stages/zoo/measure.py's figures, with COCO
mask AP and box AP (stages/zoo/inst/evaluate.py) as the scores."""

from __future__ import annotations

#: The seeds' latency size for Mask RCNN (3 x 640 x 640 on the 004 page), besides the paper input (800).
PAPER_SIZES = (640,)
#: The scores the stages print.
HEADLINE = ("mask_ap", "box_ap")


def finish(figures: dict) -> None:
    """Nothing to rename: the seeds publish box and mask AP as measured."""
