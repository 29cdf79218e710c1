"""What the use cases accept as an image: a path, raw bytes or an RGB uint8 array, and how each is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.io.images import load_image

ImageInput = str | Path | bytes | NDArray[np.uint8]
"""A path, the bytes of an image file, or an RGB uint8 array ``(H, W, 3)``."""


def read_rgb(image: ImageInput, label: str) -> tuple[NDArray[np.uint8], str]:
    """``(rgb, name)``: arrays are used as they are and called ``label``; paths name themselves; bytes are
    called ``label``. Files and bytes go through :func:`~convapps.io.images.load_image` (safe decoding)."""
    if isinstance(image, np.ndarray):
        return image, label
    name = str(image) if isinstance(image, str | Path) else label
    return load_image(image, name=name), name
