"""Draw faces on a copy of an RGB image: detections (box, index, 5 landmarks) and video tracks (box, id, name)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from convapps.face.pipeline import DetectedFace
from convapps.face.stream_results import FaceInFrame


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


TRACK_COLOURS = {"recognized": (40, 200, 60), "stranger": (230, 50, 40), "undecided": (170, 170, 170)}
"""Box colours of tracked faces: a name (green), "not recognized" (red), too few looks yet (grey)."""


def draw_tracks(rgb: NDArray[np.uint8], faces: Sequence[FaceInFrame]) -> NDArray[np.uint8]:
    """An RGB uint8 copy of a video frame with each tracked face's box, track id and label."""
    img = Image.fromarray(np.ascontiguousarray(rgb))
    draw = ImageDraw.Draw(img)
    width = max(2, round(max(img.size) / 400))
    font = _font(max(12, round(img.size[1] / 30)))
    for face in faces:
        kind = "recognized" if face.recognized else ("stranger" if face.decided else "undecided")
        colour = TRACK_COLOURS[kind]
        left, top, right, bottom = face.box
        draw.rectangle((left, top, right, bottom), outline=colour, width=width)
        text = f"#{face.track} {face.label}"
        text_box = draw.textbbox((left, top), text, font=font)
        height = text_box[3] - text_box[1] + 4
        y = top - height if top - height >= 0 else bottom + 1
        draw.rectangle((left, y, left + text_box[2] - text_box[0] + 6, y + height), fill=colour)
        draw.text((left + 3, y + 1 - (text_box[1] - top)), text, fill=(0, 0, 0), font=font)
    return np.asarray(img, dtype=np.uint8)


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)
