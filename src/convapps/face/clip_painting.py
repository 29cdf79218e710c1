"""Image compositing for synthetic clips: a procedural background, soft head-shaped masks, pasting, grey bars.

Pure array functions on RGB uint8 ``(H, W, 3)`` frames; :mod:`convapps.face.video_clips` decides what goes
where and when.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

MASK_AXES = (0.94, 1.0)
"""Semi-axes of the head ellipse as fractions of the pasted photo's half width and half height."""

MASK_FEATHER = 0.15
"""Width of the mask's soft edge, in units of the ellipse radius (0 = a hard edge)."""

OCCLUDER_GREY = 128
OCCLUDER_MARGIN = 4
"""Pixels the grey bar reaches beyond the photo on every side."""


def background(width: int, height: int, seed: int) -> NDArray[np.uint8]:
    """A static backdrop: a two-colour gradient, soft low-frequency blobs and a fine grain (seeded)."""
    rng = np.random.default_rng(seed)
    c0, c1 = rng.uniform(50, 205, 3), rng.uniform(50, 205, 3)
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = xs * np.cos(angle) / width + ys * np.sin(angle) / height
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    base = c0[None, None, :] + ramp[..., None] * (c1 - c0)[None, None, :]
    grid = rng.integers(0, 256, (6, 10, 3), dtype=np.uint8)
    blobs = np.asarray(Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC), np.float32)
    grain = rng.normal(0.0, 4.0, (height, width, 1)).astype(np.float32)
    return np.clip(base + (blobs - 128.0) * 0.25 + grain, 0, 255).astype(np.uint8)


def add_noise(frame: NDArray[np.uint8], rng: np.random.Generator, *, amplitude: int = 3) -> NDArray[np.uint8]:
    """``frame`` with light uniform sensor noise in ``[-amplitude, amplitude]`` per sample."""
    noise = rng.integers(-amplitude, amplitude + 1, frame.shape, dtype=np.int16)
    return np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def head_mask(width: int, height: int) -> NDArray[np.float32]:
    """Alpha ``(height, width, 1)`` in [0, 1]: an ellipse inscribed in the photo with a soft edge."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    u = ((xs + 0.5) / width * 2 - 1) / MASK_AXES[0]
    v = ((ys + 0.5) / height * 2 - 1) / MASK_AXES[1]
    radius = np.sqrt(u * u + v * v)
    return np.clip((1.0 - radius) / MASK_FEATHER, 0.0, 1.0)[..., None]


def resize(rgb: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    """``rgb`` resized to ``(height, width, 3)`` (Lanczos, so small pasted faces stay sharp)."""
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS), np.uint8)


def _overlap(frame: NDArray[np.uint8], x0: int, y0: int, w: int, h: int) -> tuple[slice, slice, slice, slice] | None:
    """Frame and patch slices of a ``w x h`` patch placed at ``(x0, y0)``; None when it is off the frame."""
    fh, fw = frame.shape[:2]
    left, top, right, bottom = max(0, x0), max(0, y0), min(fw, x0 + w), min(fh, y0 + h)
    if left >= right or top >= bottom:
        return None
    return slice(top, bottom), slice(left, right), slice(top - y0, bottom - y0), slice(left - x0, right - x0)


def paste(frame: NDArray[np.uint8], photo: NDArray[np.uint8], alpha: NDArray[np.float32], x0: int, y0: int) -> None:
    """Blend ``photo`` into ``frame`` in place at top-left ``(x0, y0)`` (may hang over the edges)."""
    h, w = photo.shape[:2]
    where = _overlap(frame, x0, y0, w, h)
    if where is None:
        return
    fy, fx, py, px = where
    a = alpha[py, px]
    region = frame[fy, fx].astype(np.float32)
    frame[fy, fx] = np.clip(region * (1.0 - a) + photo[py, px].astype(np.float32) * a + 0.5, 0, 255).astype(np.uint8)


def grey_bar(frame: NDArray[np.uint8], x0: int, y0: int, w: int, h: int) -> None:
    """Cover the ``w x h`` rectangle at ``(x0, y0)`` (plus a margin) with flat grey, in place."""
    m = OCCLUDER_MARGIN
    where = _overlap(frame, x0 - m, y0 - m, w + 2 * m, h + 2 * m)
    if where is not None:
        frame[where[0], where[1]] = OCCLUDER_GREY
