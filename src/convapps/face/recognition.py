"""One-shot face recognition (1:K) and verification against an enrolled identity (1:1).

The lecture: keep a database of K persons; for an input image output the ID if it is one of them,
or "not recognized". With encodings f(x) of one photo per person (one-shot: adding a person needs no
retraining):

    identify:   k* = argmin_k min_j ||f(img) - f(x_kj)||^2 ;  k* if that distance <= tau, else "not recognized"
    verify_id:  d = min_j ||f(img) - f(x_claimed,j)||^2 <= tau  (is this the claimed person?)

tau is in squared L2 units; the default is the encoder's ``default_tau``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.core.distances import pairwise_squared_l2
from convapps.errors import AlreadyEnrolledError, InvalidInputError, NoFaceError, NotFoundError
from convapps.face.pipeline import Box, FaceEncoding, FacePipeline, default_pipeline
from convapps.gallery import Gallery, Identity, Metadata
from convapps.io.images import load_image

ImageInput = str | Path | bytes | NDArray[np.uint8]
NOT_RECOGNIZED = "not recognized"


@dataclass(frozen=True)
class Recognition:
    """The decision for one face: ``identity`` is None when it is "not recognized".

    ``nearest`` / ``distance`` describe the closest enrolled person even when beyond ``tau``
    (``nearest`` is None and ``distance`` inf for an empty gallery).
    """

    box: Box
    face_index: int
    identity: Identity | None
    nearest: Identity | None
    distance: float
    tau: float

    @property
    def label(self) -> str:
        return self.identity.name if self.identity is not None else NOT_RECOGNIZED

    def to_dict(self) -> dict[str, object]:
        return {
            "face": self.face_index,
            "box": list(self.box),
            "name": self.identity.name if self.identity else None,
            "id": self.identity.id if self.identity else None,
            "recognized": self.identity is not None,
            "distance": self.distance if np.isfinite(self.distance) else None,
            "nearest": self.nearest.name if self.nearest else None,
            "tau": self.tau,
        }


@dataclass(frozen=True)
class IdentityVerification:
    """Outcome of :func:`verify_id`: ``same`` is ``distance <= tau``."""

    name: str
    distance: float
    tau: float
    same: bool
    face_index: int
    box: Box
    notes: tuple[str, ...] = ()


def _threshold(tau: float | None, pipeline: FacePipeline) -> float:
    value = pipeline.default_tau if tau is None else float(tau)
    if not np.isfinite(value) or value < 0:
        raise InvalidInputError(f"tau must be a finite number >= 0, got {tau}")
    return value


def _rgb(image: ImageInput, label: str) -> tuple[NDArray[np.uint8], str]:
    if isinstance(image, np.ndarray):
        return image, label
    name = str(image) if isinstance(image, str | Path) else label
    return load_image(image, name=name), name


def encode_for_enrollment(
    images: Sequence[ImageInput], *, pipeline: FacePipeline | None = None, face_index: int = 0
) -> tuple[NDArray[np.float32], list[str]]:
    """Encodings (N, D) of one face per image (index 0 = largest) and notes on ambiguous photos.

    Raises NoFaceError naming the first image without a face, before anything is stored.
    """
    if not images:
        raise InvalidInputError("give at least one image to enroll")
    pipe = pipeline or default_pipeline()
    encodings, notes = [], []
    for i, image in enumerate(images):
        rgb, name = _rgb(image, f"<image {i + 1}>")
        enc = pipe.encode_one(rgb, face_index, name=name)
        if enc.n_faces > 1:
            notes.append(f"{name}: {enc.n_faces} faces found, enrolled face {face_index} (0 = the largest)")
        encodings.append(enc.embedding)
    return np.stack(encodings).astype(np.float32), notes


def enroll(
    gallery: Gallery,
    name: str,
    images: Sequence[ImageInput],
    *,
    pipeline: FacePipeline | None = None,
    metadata: Metadata | None = None,
    face_index: int = 0,
    add: bool = False,
) -> Identity:
    """Enroll ``name`` from one or more photos (one-shot: a single photo is enough), in one transaction.

    With ``add=True`` an already enrolled person gets the new encodings instead of a ConflictError.
    """
    encodings, _ = encode_for_enrollment(images, pipeline=pipeline, face_index=face_index)
    return enroll_encodings(gallery, name, encodings, metadata=metadata, add=add)


def enroll_encodings(
    gallery: Gallery,
    name: str,
    encodings: NDArray[np.float32],
    *,
    metadata: Metadata | None = None,
    add: bool = False,
) -> Identity:
    """Store already computed encodings (N, D) for ``name``: a new person, or more photos with ``add``."""
    if add and _is_enrolled(gallery, name):
        return gallery.add_encodings(name, encodings)
    return gallery.enroll(name, encodings, metadata=metadata)


def _is_enrolled(gallery: Gallery, name: str) -> bool:
    try:
        gallery.get(name)
    except NotFoundError:
        return False
    return True


Decision = tuple[Identity | None, Identity | None, float]


def decide(gallery: Gallery, embeddings: NDArray[np.float32], *, tau: float) -> list[Decision]:
    """The recognition decision for encodings (N, D): (identity or None, nearest, distance) each."""
    out: list[Decision] = []
    for matches in gallery.search(embeddings, k=1):
        if not matches:
            out.append((None, None, float("inf")))
            continue
        best = matches[0]
        out.append((best.identity if best.distance <= tau else None, best.identity, best.distance))
    return out


def identify(
    gallery: Gallery, image: ImageInput, *, tau: float | None = None, pipeline: FacePipeline | None = None
) -> list[Recognition]:
    """Every face in the photo (largest first): its enrolled identity, or "not recognized"."""
    pipe = pipeline or default_pipeline()
    threshold = _threshold(tau, pipe)
    rgb, name = _rgb(image, "<image>")
    faces: list[FaceEncoding] = pipe.encode_faces(rgb, name=name)
    if not faces:
        raise NoFaceError(f"{name}: no face found")
    decisions = decide(gallery, np.stack([f.embedding for f in faces]), tau=threshold)
    return [
        Recognition(box=f.box, face_index=f.face_index, identity=who, nearest=near, distance=d, tau=threshold)
        for f, (who, near, d) in zip(faces, decisions, strict=True)
    ]


def verify_id(
    gallery: Gallery,
    image: ImageInput,
    name: str,
    *,
    tau: float | None = None,
    pipeline: FacePipeline | None = None,
    face_index: int = 0,
) -> IdentityVerification:
    """1:1 verification against a claimed, enrolled identity (nearest of its encodings)."""
    pipe = pipeline or default_pipeline()
    threshold = _threshold(tau, pipe)
    person = gallery.get(name)  # NotFoundError before any model work
    rgb, label = _rgb(image, "<image>")
    enc = pipe.encode_one(rgb, face_index, name=label)
    distance = float(pairwise_squared_l2(enc.embedding[None], gallery.encodings_of(person.name)).min())
    notes = (f"{label}: {enc.n_faces} faces, used face {face_index} (largest = 0)",) if enc.n_faces > 1 else ()
    return IdentityVerification(person.name, distance, threshold, distance <= threshold, face_index, enc.box, notes)


def folder_people(folder: Path) -> dict[str, list[Path]]:
    """``folder/<person name>/<images>``: person -> sorted image files (hidden files skipped)."""
    if not folder.is_dir():
        raise InvalidInputError(f"{folder} is not a folder (expected one sub-folder per person)")
    people = {
        sub.name: sorted(p for p in sub.iterdir() if p.is_file() and not p.name.startswith("."))
        for sub in sorted(folder.iterdir())
        if sub.is_dir() and not sub.name.startswith(".")
    }
    people = {name: files for name, files in people.items() if files}
    if not people:
        raise InvalidInputError(f"{folder} has no sub-folder with images (expected one sub-folder per person)")
    return people


def enroll_folder(
    gallery: Gallery,
    people: dict[str, list[Path]],
    *,
    pipeline: FacePipeline | None = None,
    skip_existing: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Identity]:
    """Enroll every person of :func:`folder_people`: all photos are encoded FIRST (any error leaves the
    gallery unchanged), then each person is committed in their own transaction, so an interrupted bulk
    enroll keeps everyone committed so far and can be resumed with ``skip_existing``."""
    existing = {p.name for p in gallery.identities()}
    clash = [n for n in people if n in existing]
    if clash and not skip_existing:
        raise AlreadyEnrolledError(f"{len(clash)} name(s) already enrolled, e.g. {clash[0]!r}")
    todo = {n: files for n, files in people.items() if n not in existing}
    encoded = {}
    for name, files in todo.items():
        encoded[name] = encode_for_enrollment(files, pipeline=pipeline)[0]
        if progress is not None:
            progress(name)
    return [gallery.enroll(name, encodings) for name, encodings in encoded.items()]
