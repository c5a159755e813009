"""Image file reading and writing shared by the formats (OpenCV, BGR uint8 as the toolkits use)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .records import DatasetError

JPEG_QUALITY = 95


def write_image(path: Path, image: np.ndarray) -> None:
    """Write an image (JPEG or PNG by suffix), creating the folder.

    Args:
        path: Target file.
        image: ``HxWx3`` BGR or ``HxW`` single-channel uint8 array.
    """
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if path.suffix.lower() in (".jpg", ".jpeg") else []
    if not cv2.imwrite(str(path), image, params):
        raise OSError(f"{path}: could not write image")


def read_image(path: Path, gray: bool = False) -> np.ndarray:
    """Read an image as BGR (or single-channel) uint8.

    Raises:
        DatasetError: The file is missing or not an image.
    """
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED if gray else cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(path, "missing or not a readable image")
    return image


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` from the file header only (fast on large datasets).

    Raises:
        DatasetError: The file is missing or not an image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError):
        raise DatasetError(path, "missing or not a readable image") from None
