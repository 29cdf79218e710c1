"""A built-in synthetic 'painting' so demos and tests run without any data file."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def swirl_painting(size: int = 256, *, seed: int = 0) -> NDArray[np.uint8]:
    """A colourful swirling-stroke texture, RGB uint8 ``(size, size, 3)`` (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size * 2 * np.pi
    angle = 3.0 * np.sin(x * 1.3 + rng.random()) + 3.0 * np.cos(y * 1.7 + rng.random())
    strokes = np.sin(18.0 * (x * np.cos(angle) + y * np.sin(angle)))
    palette = np.array([[20, 40, 110], [240, 200, 60], [60, 120, 200], [250, 250, 220]], dtype=np.float64)
    t = (strokes + 1) / 2 * (len(palette) - 1)
    low = np.floor(t).astype(int).clip(0, len(palette) - 2)
    frac = (t - low)[..., None]
    image = palette[low] * (1 - frac) + palette[low + 1] * frac
    return np.clip(image, 0, 255).astype(np.uint8)
