"""What the benchmark stage measures for a detector: stages/zoo/measure.py's figures, with COCO box AP /
AP50 or VOC mAP as the scores. ``box_ap`` is COCO AP, or for VOC the mAP, which the seeds publish
under Box AP."""

from __future__ import annotations

#: Input sizes at which the seeds publish YOLOv3 rows (one entry, three measurements).
PAPER_SIZES = (608, 416, 320)
#: The scores the stages print.
HEADLINE = ("box_ap", "box_ap50", "voc_map")


def finish(figures: dict) -> None:
    """The seeds publish a VOC model's mAP under Box AP."""
    if "voc_map" in figures:
        figures["box_ap"] = figures["voc_map"]
