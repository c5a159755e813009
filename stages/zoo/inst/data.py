"""Instance segmentation splits: the detection splits (:mod:`..det.data`), whose COCO records carry each
object's mask polygons; Mask RCNN's training targets add them (``rcnn_targets(..., polygons=True)``)."""

from ..det.data import DetSet, split  # noqa: F401  (the task's ``data`` module, for the dense stages)
