"""Draw detected faces (box, index, 5 landmarks) on a copy of an RGB image."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from convapps.face.pipeline import DetectedFace


def annotate_faces(rgb: NDArray[np.uint8], faces: Sequence[DetectedFace]) -> NDArray[np.uint8]:
    """An RGB uint8 copy of ``rgb`` with each face's box (green, index 0 thicker) and landmarks (red)."""
    img = Image.fromarray(np.ascontiguousarray(rgb))
    draw = ImageDraw.Draw(img)
    width = max(2, round(max(img.size) / 250))
    for index, face in enumerate(faces):
        left, top, right, bottom = face.box
        draw.rectangle((left, top, right, bottom), outline=(0, 255, 0), width=width * (2 if index == 0 else 1))
        draw.text((left + 3, top + 2), str(index), fill=(0, 255, 0))
        for x, y in face.landmarks:
            draw.ellipse((x - width, y - width, x + width, y + width), fill=(255, 0, 0))
    return np.asarray(img, dtype=np.uint8)
