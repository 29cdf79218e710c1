"""LFW images used by the face verification tests, and composites built from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from convapps.io.images import load_image


def lfw(shared_data: Path, name: str, number: int) -> Path:
    return shared_data / "faces" / "lfw" / "lfw-deepfunneled" / name / f"{name}_{number:04d}.jpg"


def two_faces(shared_data: Path) -> NDArray[np.uint8]:
    """Aaron_Peirsol_0001 (250 px, large face) next to Abel_Pacheco_0001 shrunk to 170 px (smaller face)."""
    big = load_image(lfw(shared_data, "Aaron_Peirsol", 1))
    small = np.asarray(Image.fromarray(load_image(lfw(shared_data, "Abel_Pacheco", 1))).resize((170, 170)))
    canvas = np.full((250, 420, 3), 255, np.uint8)
    canvas[:, :250] = big
    canvas[40:210, 250:] = small
    return canvas


def blank(size: int = 200) -> NDArray[np.uint8]:
    """A flat grey image: no face."""
    return np.full((size, size, 3), 128, np.uint8)
