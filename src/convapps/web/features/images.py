"""Encoding images for HTTP responses."""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image


def png_bytes(pixels: NDArray[np.uint8]) -> bytes:
    """RGB uint8 ``(H, W, 3)`` -> PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def jpeg_bytes(pixels: NDArray[np.uint8], quality: int = 85) -> bytes:
    """RGB uint8 ``(H, W, 3)`` -> JPEG bytes (photos and face crops)."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()
