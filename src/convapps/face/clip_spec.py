"""What a synthetic clip shows: who appears when and where (:class:`ClipSpec`) and its ground truth.

Rendering lives in :mod:`convapps.face.video_clips`; the module doc there describes the clip model.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from convapps.errors import InvalidInputError, NoFaceError, SeveralFacesError
from convapps.face.pipeline import Box, FacePipeline
from convapps.io.images import load_image

Point = tuple[float, float]
"""(x, y) as fractions of the frame's width and height."""


@dataclass(frozen=True)
class Appearance:
    """One visit of a person: which photo, when, where and how large (see the module doc).

    ``crop`` (left, top, right, bottom; right/bottom exclusive) pastes only that part of the photo;
    ``face_box`` (inclusive, in source photo pixels) skips detecting the face in the photo.
    """

    name: str
    photo: Path
    enter_s: float
    leave_s: float
    start: Point = (0.5, 0.5)
    end: Point = (0.5, 0.5)
    start_size: int = 200
    end_size: int = 200
    occlusions: tuple[tuple[float, float], ...] = ()
    crop: Box | None = None
    face_box: Box | None = None
    waypoints: tuple[tuple[float, float, float], ...] = ()
    """Points passed on the way from ``start`` to ``end``: (fraction of the visit, x, y), fractions increasing."""

    def __post_init__(self) -> None:
        if not 0 <= self.enter_s < self.leave_s:
            raise InvalidInputError(f"{self.name}: need 0 <= enter_s < leave_s, got {self.enter_s}, {self.leave_s}")
        if min(self.start_size, self.end_size) < 8:
            raise InvalidInputError(f"{self.name}: a pasted photo must be at least 8 pixels")
        if any(not t0 < t1 for t0, t1 in self.occlusions):
            raise InvalidInputError(f"{self.name}: each occlusion needs t0 < t1, got {self.occlusions}")

    def visible(self, t: float) -> bool:
        return self.enter_s <= t < self.leave_s

    def occluded(self, t: float) -> bool:
        return any(t0 <= t < t1 for t0, t1 in self.occlusions)

    def placement(self, t: float) -> tuple[float, float, float]:
        """Centre x, centre y (fractions of the frame) and size (pixels) at time ``t``."""
        u = min(1.0, max(0.0, (t - self.enter_s) / (self.leave_s - self.enter_s)))
        keys = [(0.0, *self.start), *self.waypoints, (1.0, *self.end)]
        k = next(i for i in range(1, len(keys)) if u <= keys[i][0] or i == len(keys) - 1)
        (u0, x0, y0), (u1, x1, y1) = keys[k - 1], keys[k]
        v = min(1.0, max(0.0, (u - u0) / (u1 - u0))) if u1 > u0 else 1.0
        x, y = x0 + v * (x1 - x0), y0 + v * (y1 - y0)
        return x, y, self.start_size + u * (self.end_size - self.start_size)


@dataclass(frozen=True)
class ClipSpec:
    """A clip: frame size, rate, length, who appears, and the seed of the background and noise."""

    width: int
    height: int
    fps: float
    duration_s: float
    appearances: tuple[Appearance, ...]
    seed: int = 0

    def __post_init__(self) -> None:
        if self.width < 16 or self.height < 16 or not self.fps > 0 or not self.duration_s > 0:
            raise InvalidInputError(
                f"a clip needs a size of at least 16x16, fps > 0 and a duration > 0, got "
                f"{self.width}x{self.height}, {self.fps} fps, {self.duration_s} s"
            )

    @property
    def n_frames(self) -> int:
        return round(self.duration_s * self.fps)

    def to_dict(self) -> dict[str, object]:
        clip = asdict(self)
        clip["appearances"] = [{**asdict(a), "photo": str(a.photo)} for a in self.appearances]
        return {**clip, "n_frames": self.n_frames}


@dataclass(frozen=True)
class TruthFace:
    """A face shown in a frame: who, where (left, top, right, bottom; inclusive), hidden or not.

    ``clipped``: part of the face is outside the frame (``box`` is cut at the edge); evaluations may treat
    such faces, like occluded ones, as optional.
    """

    name: str
    box: Box
    occluded: bool = False
    clipped: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "box": list(self.box), "occluded": self.occluded, "clipped": self.clipped}


@dataclass(frozen=True)
class GroundTruth:
    """What a rendered clip shows: ``frames[i]`` lists the faces of frame ``i``."""

    spec: ClipSpec
    frames: list[list[TruthFace]]

    def to_dict(self) -> dict[str, object]:
        return {
            "clip": self.spec.to_dict(),
            "frames": [
                {"frame": i, "time_s": i / self.spec.fps, "faces": [f.to_dict() for f in faces]}
                for i, faces in enumerate(self.frames)
            ],
        }

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_dict` as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))


def photo_face_box(pipeline: FacePipeline, photo: Path) -> Box:
    """The box of the one face in ``photo``; a photo with no face or several faces is refused."""
    faces = pipeline.detect(load_image(photo))
    if not faces:
        raise NoFaceError(f"{photo.name}: no face found; a clip photo needs exactly one face")
    if len(faces) > 1:
        raise SeveralFacesError(f"{photo.name}: {len(faces)} faces found; a clip photo needs exactly one face")
    return faces[0].box
