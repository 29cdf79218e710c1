"""One-shot face recognition (1:K) and verification against an enrolled identity (1:1).

The lecture: keep a database of K persons; for an input image output the ID if it is one of them,
or "not recognized". With encodings f(x) of one photo per person (one-shot: adding a person needs no
retraining):

    identify:   k* = argmin_k s(img, k) ;  k* if s(img, k*) <= tau(K, FAR), else "not recognized"
    verify_id:  d = min_j ||f(img) - f(x_claimed,j)||^2 <= tau  (is this the claimed person?)

identify's tau knows the gallery size K: it keeps the per-search false-accept rate at FAR (default 1%)
however many people are enrolled (:mod:`convapps.face.openset`); a fixed ``tau`` brings back the
lecture's plain rule on the squared L2 distance to the nearest photo. verify_id (1:1) keeps the
verification tau (the encoder's ``default_tau``, squared L2). Enrollment and its photo rules:
:mod:`convapps.face.enrollment`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convapps.core.distances import pairwise_squared_l2
from convapps.errors import AlreadyEnrolledError, InvalidInputError, NoFaceError
from convapps.face.enrollment import encode_for_enrollment
from convapps.face.openset import DEFAULT_FAR, Decision, calibration_for, decide
from convapps.face.pipeline import Box, FaceEncoding, FacePipeline, default_pipeline
from convapps.gallery import Gallery, Identity
from convapps.io.image_input import ImageInput, read_rgb

NOT_RECOGNIZED = "not recognized"


@dataclass(frozen=True)
class Recognition:
    """The decision for one face of a photo: ``identity`` is None when it is "not recognized".

    ``nearest`` / ``distance`` describe the best-scoring enrolled person even when rejected (None and inf
    for an empty gallery); ``distance`` is the squared L2 to their template (mean of their photos);
    ``decision`` holds the score, the second-nearest person, the margin and the tau with its reason.
    """

    box: Box
    face_index: int
    decision: Decision

    @property
    def identity(self) -> Identity | None:
        return self.decision.identity

    @property
    def nearest(self) -> Identity | None:
        return self.decision.nearest.identity if self.decision.nearest else None

    @property
    def distance(self) -> float:
        return self.decision.nearest.distance if self.decision.nearest else float("inf")

    @property
    def tau(self) -> float:
        return self.decision.threshold.tau

    @property
    def label(self) -> str:
        return self.identity.name if self.identity is not None else NOT_RECOGNIZED

    @property
    def sentence(self) -> str:
        """The decision in words a receptionist understands."""
        d = self.decision
        if d.nearest is None:
            return "Not recognized: nobody is enrolled yet."
        nearest = d.nearest.identity.name
        if d.identity is None:
            return f"Not recognized: nobody enrolled is close enough (the closest, {nearest}, is not a match)."
        runner_up = f"; next closest: {d.second.identity.name}" if d.second is not None else ""
        return f"This is {nearest} (match score {d.score:.2f}, limit {self.tau:.2f}{runner_up})."

    def to_dict(self) -> dict[str, object]:
        d = self.decision

        def finite(x: float) -> float | None:
            return x if np.isfinite(x) else None

        return {
            "face": self.face_index,
            "box": list(self.box),
            "name": self.identity.name if self.identity else None,
            "id": self.identity.id if self.identity else None,
            "recognized": self.identity is not None,
            "distance": finite(self.distance),
            "score": finite(d.score),
            "nearest": self.nearest.name if self.nearest else None,
            "second": d.second.identity.name if d.second else None,
            "second_distance": d.second.distance if d.second else None,
            "second_score": d.second.score if d.second else None,
            "margin": finite(d.margin),
            "tau": self.tau,
            "tau_reason": d.threshold.reason,
            "calibrated": d.threshold.calibrated,
            "sentence": self.sentence,
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


def identify(
    gallery: Gallery,
    image: ImageInput,
    *,
    far: float = DEFAULT_FAR,
    tau: float | None = None,
    pipeline: FacePipeline | None = None,
) -> list[Recognition]:
    """Every face in the photo (largest first): its enrolled identity, or "not recognized".

    tau is chosen for this gallery's size K so that a stranger gets a name with probability ``far`` per
    search; a given ``tau`` applies the plain rule (squared L2 to the nearest photo) instead.

    Raises:
        NoFaceError: the photo shows no face.
    """
    pipe = pipeline or default_pipeline()
    rgb, name = read_rgb(image, "<image>")
    faces: list[FaceEncoding] = pipe.encode_faces(rgb, name=name)
    if not faces:
        raise NoFaceError(f"{name}: no face found")
    return recognize(gallery, faces, far=far, tau=tau, pipeline=pipe)


def recognize(
    gallery: Gallery,
    faces: Sequence[FaceEncoding],
    *,
    far: float = DEFAULT_FAR,
    tau: float | None = None,
    pipeline: FacePipeline,
) -> list[Recognition]:
    """The decision for already encoded faces (the part of :func:`identify` after the models ran)."""
    if not faces:
        return []
    decisions = decide(
        gallery,
        np.stack([f.embedding for f in faces]),
        far=far,
        tau=tau,
        fallback_tau=pipeline.default_tau,
        calibration=calibration_for(pipeline.encoder.space.model_id),
    )
    return [Recognition(f.box, f.face_index, d) for f, d in zip(faces, decisions, strict=True)]


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
    rgb, label = read_rgb(image, "<image>")
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
        encoded[name] = encode_for_enrollment(files, pipeline=pipeline)
        if progress is not None:
            progress(name)
    return [gallery.enroll(name, encodings) for name, encodings in encoded.items()]
