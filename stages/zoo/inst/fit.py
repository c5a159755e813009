"""Training of a Mask RCNN: the detectors' loop (:func:`..det.fit.fit`), whose RCNN targets carry the mask
polygons for a ``MaskRCNN`` and whose loss adds ppdet's mask loss."""

from ..det.fit import fit  # noqa: F401  (the task's ``fit`` module, for the dense stages)
