"""Face detection splits and SSD training targets: the detection package's."""

from __future__ import annotations

# the same splits (images resized to the square input) and SSD targets (no augmentation: face.fit)
from ..det.data import DetSet, split, ssd_targets  # noqa: F401
