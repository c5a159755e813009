"""What the benchmark stage measures for a segmenter: stages/zoo/measure.py's figures, with mIoU,
pixel accuracy and background IoU (stages/zoo/seg/evaluate.py) as the scores."""

from __future__ import annotations

#: The seeds' latency size for segmentation (769 x 769), besides each entry's paper input.
PAPER_SIZES = (769,)
#: The scores the stages print.
HEADLINE = ("miou", "pixel_acc")


def finish(figures: dict) -> None:
    """Nothing to rename: the seeds publish mIoU as measured."""
