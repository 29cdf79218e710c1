"""Synthetic video clips of face photos with exact ground truth, for tests and benchmarks of face tracking.

>>> spec, enrolled = lfw_scenario(lfw_root, n_known=3, n_strangers=2, duration_s=20, width=640, height=360, seed=1)
>>> truth = render_clip(spec, "clip.mp4")        # truth.frames[i]: the faces of frame i, with boxes
>>> truth.save("clip.truth.json")

Each :class:`Appearance` pastes one photo (or a crop of it) on a static procedural background: the photo
moves linearly from ``start`` to ``end`` and scales from ``start_size`` to ``end_size`` (its longer side, in
pixels) between ``enter_s`` and ``leave_s``, blended through a soft elliptical mask so it reads as a head;
during an occlusion a grey bar covers it completely. Frame ``i`` shows time ``i / fps``. The truth box of a
face is the box :meth:`FacePipeline.detect <convapps.face.pipeline.FacePipeline.detect>` finds in the source
photo (once per photo), scaled and moved with the pasted photo; a face is listed while at least half of its
box is inside the frame (the box then cut at the edge and flagged ``clipped``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.errors import InvalidInputError
from convapps.face import clip_painting
from convapps.face.clip_spec import Appearance, ClipSpec, GroundTruth, Point, TruthFace, photo_face_box
from convapps.face.lfw_clips import lfw_scenario
from convapps.face.pipeline import Box, FacePipeline, default_pipeline
from convapps.io.images import load_image
from convapps.io.video import VideoWriter

__all__ = [
    "Appearance",
    "ClipSpec",
    "GroundTruth",
    "Point",
    "TruthFace",
    "frames_of",
    "lfw_scenario",
    "photo_face_box",
    "render_clip",
]


class _Painter:
    """Renders the frames of one spec: the photos loaded and face boxes found once, resized once per size."""

    def __init__(self, spec: ClipSpec, pipeline: FacePipeline | None) -> None:
        self.spec = spec
        self.background = clip_painting.background(spec.width, spec.height, spec.seed)
        self._photos: dict[tuple[Path, Box | None], NDArray[np.uint8]] = {}
        self._boxes: dict[Path, Box] = {}
        self._sized: dict[tuple[int, int, int], tuple[NDArray[np.uint8], NDArray[np.float32]]] = {}
        self.crops: list[Box] = []
        self.face_boxes: list[Box] = []
        for a in spec.appearances:
            photo = self._photo(a)
            self.crops.append(a.crop or (0, 0, photo.shape[1], photo.shape[0]))
            if a.face_box is not None:
                self.face_boxes.append(a.face_box)
            else:
                if a.photo not in self._boxes:
                    self._boxes[a.photo] = photo_face_box(pipeline or default_pipeline(), a.photo)
                self.face_boxes.append(self._boxes[a.photo])

    def _photo(self, a: Appearance) -> NDArray[np.uint8]:
        key = (a.photo, a.crop)
        if key not in self._photos:
            rgb = load_image(a.photo)
            if a.crop is not None:
                left, top, right, bottom = a.crop
                if not (0 <= left < right <= rgb.shape[1] and 0 <= top < bottom <= rgb.shape[0]):
                    raise InvalidInputError(f"{a.photo.name}: crop {a.crop} is not inside the photo")
                rgb = np.ascontiguousarray(rgb[top:bottom, left:right])
            self._photos[key] = rgb
        return self._photos[key]

    def _sized_photo(self, index: int, w: int, h: int) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
        key = (index, w, h)
        if key not in self._sized:
            photo = self._photo(self.spec.appearances[index])
            self._sized[key] = (clip_painting.resize(photo, w, h), clip_painting.head_mask(w, h))
        return self._sized[key]

    def geometry(self, index: int, t: float) -> tuple[int, int, int, int, Box]:
        """Pasted photo (x0, y0, w, h) and unclipped face box (frame pixels) of appearance ``index`` at ``t``."""
        a, (cl, ct, cr, cb) = self.spec.appearances[index], self.crops[index]
        cx, cy, size = a.placement(t)
        scale = size / max(cr - cl, cb - ct)
        w, h = max(1, round((cr - cl) * scale)), max(1, round((cb - ct) * scale))
        x0, y0 = round(cx * self.spec.width - w / 2), round(cy * self.spec.height - h / 2)
        fl, ft, fr, fb = self.face_boxes[index]
        box = (
            x0 + round((fl - cl) * scale),
            y0 + round((ft - ct) * scale),
            x0 + round((fr + 1 - cl) * scale) - 1,
            y0 + round((fb + 1 - ct) * scale) - 1,
        )
        return x0, y0, w, h, box

    def frame(self, index: int) -> tuple[NDArray[np.uint8], list[TruthFace]]:
        t = index / self.spec.fps
        rgb = self.background.copy()
        truth = []
        for i, a in enumerate(self.spec.appearances):
            if not a.visible(t):
                continue
            x0, y0, w, h, box = self.geometry(i, t)
            hidden = a.occluded(t)
            if hidden:
                clip_painting.grey_bar(rgb, x0, y0, w, h)
            else:
                clip_painting.paste(rgb, *self._sized_photo(i, w, h), x0, y0)
            clipped = _clip(box, self.spec.width, self.spec.height)
            if clipped is not None:
                truth.append(TruthFace(a.name, clipped, hidden, clipped != box))
        rng = np.random.default_rng((self.spec.seed, index))
        return clip_painting.add_noise(rgb, rng), truth


def _clip(box: Box, width: int, height: int) -> Box | None:
    """``box`` clipped to the frame, or None when less than half of its area is inside."""
    left, top, right, bottom = box
    clipped = (max(0, left), max(0, top), min(width - 1, right), min(height - 1, bottom))
    area = (right - left + 1) * (bottom - top + 1)
    inside = max(0, clipped[2] - clipped[0] + 1) * max(0, clipped[3] - clipped[1] + 1)
    return clipped if area > 0 and 2 * inside >= area else None


def frames_of(
    spec: ClipSpec, *, pipeline: FacePipeline | None = None
) -> Iterator[tuple[NDArray[np.uint8], list[TruthFace]]]:
    """The clip's frames, rendered lazily, each with the faces it shows.

    ``pipeline`` finds the face boxes of photos whose appearance has no ``face_box`` (default: the
    process-wide default pipeline). Rendering is deterministic for a spec (seed included).
    """
    painter = _Painter(spec, pipeline)
    for index in range(spec.n_frames):
        yield painter.frame(index)


def render_clip(
    spec: ClipSpec, out_path: str | Path, *, pipeline: FacePipeline | None = None, crf: int = 20
) -> GroundTruth:
    """Render ``spec`` into a video file (codec from the suffix) and return its ground truth."""
    frames: list[list[TruthFace]] = []
    with VideoWriter(out_path, fps=spec.fps, width=spec.width, height=spec.height, crf=crf) as out:
        for rgb, truth in frames_of(spec, pipeline=pipeline):
            out.write(rgb)
            frames.append(truth)
    return GroundTruth(spec, frames)
