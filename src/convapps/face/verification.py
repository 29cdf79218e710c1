"""Face verification (1:1): is img2 the same person as img1?

    d(img1, img2) = || f(img1) - f(img2) ||^2      same person  <=>  d <= tau

tau is in squared L2 units (0.36 squared = face_recognition's 0.6 L2); the default is the encoder's
``default_tau``, chosen on LFW View 1 (see ``convapps.models.registry.DLIB_RESNET``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from convapps.core.distances import squared_l2_distance, squared_to_l2
from convapps.errors import InvalidInputError
from convapps.face.pipeline import Box, FaceEncoding, FacePipeline, default_pipeline
from convapps.io.image_input import ImageInput, read_rgb


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of :func:`verify`.

    Attributes:
        distance: the lecture's d = ||f(img1) - f(img2)||^2.
        tau: the threshold used (squared units); ``same`` is ``distance <= tau``.
        same: the decision.
        faces: which face of each image was used (index, 0 = largest) and its box.
        notes: human-readable remarks (several faces found, fallback used...).
    """

    distance: float
    tau: float
    same: bool
    faces: tuple[tuple[int, Box], tuple[int, Box]]
    n_faces: tuple[int, int]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def l2_distance(self) -> float:
        """The plain L2 distance sqrt(d) (face_recognition's ``face_distance``)."""
        return squared_to_l2(self.distance)

    def to_dict(self) -> dict[str, object]:
        return {
            "distance": self.distance,
            "l2_distance": self.l2_distance,
            "tau": self.tau,
            "tau_l2": squared_to_l2(self.tau),
            "same": self.same,
            "faces": [
                {"index": i, "box": list(b), "n_faces": n} for (i, b), n in zip(self.faces, self.n_faces, strict=True)
            ],
            "notes": list(self.notes),
        }


def _encode(pipeline: FacePipeline, image: ImageInput, face_index: int, label: str) -> FaceEncoding:
    rgb, name = read_rgb(image, label)
    return pipeline.encode_one(rgb, face_index, name=name)


def _notes(enc: FaceEncoding) -> list[str]:
    notes = []
    if enc.n_faces > 1:
        which = "the largest" if enc.face_index == 0 else f"face {enc.face_index}"
        notes.append(f"{enc.name}: {enc.n_faces} faces found, used {which}")
    if not enc.detected:
        notes.append(f"{enc.name}: no face found, used the whole image")
    return notes


def verify(
    img1: ImageInput,
    img2: ImageInput,
    *,
    tau: float | None = None,
    pipeline: FacePipeline | None = None,
    faces: tuple[int, int] = (0, 0),
) -> VerificationResult:
    """Verify that ``img2`` shows the same person as ``img1`` (paths, bytes or RGB uint8 arrays).

    Raises:
        NoFaceError: an image has no face (the message names it).
        ImageError: an image cannot be read.
    """
    pipe = pipeline or default_pipeline()
    threshold = pipe.default_tau if tau is None else float(tau)
    if not np.isfinite(threshold) or threshold < 0:
        raise InvalidInputError(f"tau must be a finite number >= 0, got {tau}")
    enc1 = _encode(pipe, img1, faces[0], "<image 1>")
    enc2 = _encode(pipe, img2, faces[1], "<image 2>")
    distance = float(squared_l2_distance(enc1.embedding, enc2.embedding))
    return VerificationResult(
        distance=distance,
        tau=threshold,
        same=distance <= threshold,
        faces=((enc1.face_index, enc1.box), (enc2.face_index, enc2.box)),
        n_faces=(enc1.n_faces, enc2.n_faces),
        notes=tuple(_notes(enc1) + _notes(enc2)),
    )
