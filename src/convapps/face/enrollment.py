"""Enrollment with checks: one clear face per photo, big and sharp enough, and not someone already enrolled.

A gallery is only as good as its photos: the same rules apply in the CLI, the API and the UI.

- A photo with several faces is refused unless a face is chosen (``face_index``; 0 = the largest): the
  error says how many were found.
- A face smaller than :attr:`EnrollmentChecks.min_face_px` on its shorter side, or whose aligned chip is
  blurrier than :attr:`EnrollmentChecks.min_sharpness`, is refused with the reason.
- A new person whose photo lies within the verification tau of an already enrolled person is enrolled
  with a warning naming that person ("looks like Ada Lovelace, d = 0.21"); the same name twice is refused
  by the gallery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from convapps.errors import FaceQualityError, InvalidInputError, NoFaceError, NotFoundError, SeveralFacesError
from convapps.face.pipeline import FacePipeline, default_pipeline
from convapps.gallery import Gallery, Identity, Metadata
from convapps.io.image_input import ImageInput, read_rgb


@dataclass(frozen=True)
class EnrollmentChecks:
    """The photo rules of enrollment (defaults measured on LFW, see ``docs/face/OPENSET.md``).

    Attributes:
        min_face_px: shortest side of the detected face box, in pixels of the photo. Below it the
            150 px chip is an enlargement that holds little identity.
        min_sharpness: variance of the Laplacian of the aligned 150 px chip's grey levels (0-255).
            Measured on 200 LFW photos (one per person, seeded): unblurred chips 9.6 at the 1st
            percentile (median 38); the same photos blurred with a Gaussian of sigma 2 px: 5.6 at the
            95th percentile (their encodings move by d ~0.07), sigma 4 px: at most 1.6 (d ~0.24, close
            to the verification tau 0.36). 6 refuses those and keeps > 99% of real photos.
    """

    min_face_px: int = 40
    min_sharpness: float = 6.0


@dataclass(frozen=True)
class Enrollment:
    """What :func:`enroll` stored, with warnings for the person enrolling (e.g. a look-alike)."""

    identity: Identity
    warnings: tuple[str, ...] = ()


def sharpness(chip: NDArray[np.uint8]) -> float:
    """Variance of the 4-neighbour Laplacian of the chip's grey levels (a standard focus measure)."""
    grey = np.asarray(chip, np.float64) @ np.array([0.299, 0.587, 0.114])
    lap = grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4.0 * grey[1:-1, 1:-1]
    return float(lap.var())


def encode_checked(
    rgb: NDArray[np.uint8],
    *,
    name: str,
    pipeline: FacePipeline,
    face_index: int | None = None,
    checks: EnrollmentChecks = EnrollmentChecks(),
) -> NDArray[np.float32]:
    """The encoding of the one face to enroll from a photo, after the photo rules.

    Raises:
        NoFaceError: no face, or ``face_index`` beyond the faces found.
        SeveralFacesError: several faces and no ``face_index``.
        FaceQualityError: the face is too small or too blurry.
    """
    faces = pipeline.detect(rgb)
    if not faces:
        raise NoFaceError(f"{name}: no face found")
    if face_index is None:
        if len(faces) > 1:
            raise SeveralFacesError(f"{name}: {len(faces)} faces found; choose which one to enroll (0 = the largest)")
        face_index = 0
    if not 0 <= face_index < len(faces):
        raise NoFaceError(f"{name}: face {face_index} requested but {len(faces)} face(s) found (0..{len(faces) - 1})")
    face = faces[face_index]
    left, top, right, bottom = face.box
    side = min(right - left, bottom - top) + 1
    if side < checks.min_face_px:
        raise FaceQualityError(
            f"{name}: the face is only {side} px across; at least {checks.min_face_px} px are needed to encode it "
            "reliably (use a closer or larger photo)"
        )
    chip = pipeline.align(rgb, face)
    focus = sharpness(chip)
    if focus < checks.min_sharpness:
        raise FaceQualityError(
            f"{name}: the face is too blurry to encode reliably (sharpness {focus:.0f}, at least "
            f"{checks.min_sharpness:.0f} needed; use a sharper photo)"
        )
    return pipeline.encode_chips(chip[None])[0]


def encode_for_enrollment(
    images: Sequence[ImageInput],
    *,
    pipeline: FacePipeline | None = None,
    face_index: int | None = None,
    checks: EnrollmentChecks = EnrollmentChecks(),
) -> NDArray[np.float32]:
    """Encodings ``(N, D)`` of the face to enroll of each photo; every photo is checked before anything
    is stored (the first refused photo raises, naming it)."""
    if not images:
        raise InvalidInputError("give at least one image to enroll")
    pipe = pipeline or default_pipeline()
    encodings = []
    for i, image in enumerate(images):
        rgb, name = read_rgb(image, f"<image {i + 1}>")
        encodings.append(encode_checked(rgb, name=name, pipeline=pipe, face_index=face_index, checks=checks))
    return np.stack(encodings).astype(np.float32)


def look_alikes(gallery: Gallery, name: str, encodings: NDArray[np.float32], *, tau: float) -> list[str]:
    """Warnings for enrolled people other than ``name`` within ``tau`` (squared L2, the verification
    threshold) of any of the new photos: ``"looks like Ada Lovelace (d = 0.21)"``, nearest first."""
    if len(gallery) == 0:
        return []
    closest: dict[str, float] = {}
    for matches in gallery.search(encodings, k=3):
        for match in matches:
            if match.identity.name != name and match.distance <= tau:
                closest[match.identity.name] = min(match.distance, closest.get(match.identity.name, np.inf))
    return [f"looks like {who} (d = {d:.2f})" for who, d in sorted(closest.items(), key=lambda item: item[1])]


def _is_enrolled(gallery: Gallery, name: str) -> bool:
    try:
        gallery.get(name)
    except NotFoundError:
        return False
    return True


def store(
    gallery: Gallery,
    name: str,
    encodings: NDArray[np.float32],
    *,
    metadata: Metadata | None = None,
    add: bool = False,
    tau: float,
) -> Enrollment:
    """Store checked encodings ``(N, D)``: a new person (warned about look-alikes within ``tau``), or more
    photos of an enrolled one with ``add``."""
    if add and _is_enrolled(gallery, name):
        return Enrollment(gallery.add_encodings(name, encodings))
    warnings = tuple(look_alikes(gallery, name, encodings, tau=tau))
    return Enrollment(gallery.enroll(name, encodings, metadata=metadata), warnings)


def enroll(
    gallery: Gallery,
    name: str,
    images: Sequence[ImageInput],
    *,
    pipeline: FacePipeline | None = None,
    metadata: Metadata | None = None,
    face_index: int | None = None,
    add: bool = False,
    checks: EnrollmentChecks = EnrollmentChecks(),
) -> Enrollment:
    """Enroll ``name`` from one photo (one-shot) or several, in one transaction, after the photo rules.

    Raises:
        NoFaceError, SeveralFacesError, FaceQualityError: a photo breaks a rule (nothing is stored).
        ConflictError: ``name`` is already enrolled (and ``add`` is False).
    """
    pipe = pipeline or default_pipeline()
    encodings = encode_for_enrollment(images, pipeline=pipe, face_index=face_index, checks=checks)
    return store(gallery, name, encodings, metadata=metadata, add=add, tau=pipe.default_tau)
