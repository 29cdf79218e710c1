"""The face desk: enroll, list, rename, remove, verify and identify over one gallery.

Calls the same library functions as ``convapps face ...`` (:mod:`convapps.face.recognition`,
:mod:`convapps.face.enrollment`, :func:`convapps.face.verification.verify`): identify's tau follows the
gallery's size and a per-search false-accept rate, and enrollment applies the same photo rules. The
face models run under one lock: dlib's network keeps per-call state and its Python binding holds the
GIL anyway, so this costs no throughput. The gallery has its own lock and transactions; id-based
changes (rename, remove) hold a desk lock so that the id -> name lookup and the change happen together.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from convapps.core.distances import squared_to_l2
from convapps.errors import ConvappsError, ModelNotAvailableError, NoFaceError, NotFoundError, SeveralFacesError
from convapps.face import openset
from convapps.face.enrollment import Enrollment, encode_checked, store
from convapps.face.pipeline import FacePipeline, default_pipeline
from convapps.face.recognition import IdentityVerification, Recognition, recognize, verify_id
from convapps.face.verification import VerificationResult, verify
from convapps.gallery import Gallery, Identity, open_gallery, parse_gallery_url
from convapps.web.errors import ServiceBusyError
from convapps.web.settings import WebSettings
from convapps.web.state import FeatureHealth

RGB = NDArray[np.uint8]


@dataclass(frozen=True)
class Threshold:
    """The verification threshold tau and where it comes from."""

    tau: float
    tau_l2: float
    metric: str
    model_id: str
    source: str


class FaceDesk:
    """The face models and the gallery, built once; see the module docstring for the locking."""

    def __init__(self, settings: WebSettings) -> None:
        self.pipeline: FacePipeline | None = None
        self.gallery: Gallery | None = None
        self.backend = parse_gallery_url(settings.gallery_url).backend
        self.problem: str | None = None
        self._model_lock = threading.Lock()
        self._wait_s = settings.face_wait_s
        self._write_lock = threading.Lock()
        try:
            self.pipeline = default_pipeline()
            self.gallery = open_gallery(settings.gallery_url, space=self.pipeline.encoder.space)
        except ConvappsError as err:
            self.problem = f"faces unavailable: {err}"

    # ---- lifetime and health ------------------------------------------------------------------
    def health(self) -> FeatureHealth:
        if self.pipeline is None or self.gallery is None:
            return FeatureHealth(available=False, problems=[self.problem or "faces unavailable"])
        detector = f"dlib-{self.pipeline.config.detector}-detector"
        models = [("face detector", detector, True), ("face encoder", self.pipeline.encoder.space.model_id, True)]
        return FeatureHealth(
            available=True, models=models, gallery_size=len(self.gallery), gallery_backend=self.backend
        )

    def close(self) -> None:
        if self.gallery is not None:
            self.gallery.close()

    @contextmanager
    def _models(self) -> Iterator[None]:
        """Hold the model lock; refuse with 503 after ``face_wait_s`` rather than queue without bound."""
        if not self._model_lock.acquire(timeout=self._wait_s):
            raise ServiceBusyError(f"the face models were busy for {self._wait_s:.0f} s; try again shortly")
        try:
            yield
        finally:
            self._model_lock.release()

    def hold_models(self) -> AbstractContextManager[None]:
        """The face models for one caller at a time (live camera frames take turns with the requests);
        ServiceBusyError (503) after ``face_wait_s``."""
        return self._models()

    def ready(self) -> tuple[FacePipeline, Gallery]:
        """The face pipeline and the gallery; ModelNotAvailableError (503) when they could not be built."""
        return self._ready()

    def _ready(self) -> tuple[FacePipeline, Gallery]:
        if self.pipeline is None or self.gallery is None:
            raise ModelNotAvailableError(self.problem or "faces unavailable")
        return self.pipeline, self.gallery

    # ---- the gallery ---------------------------------------------------------------------------
    def people(self) -> list[Identity]:
        return self._ready()[1].identities()

    def person(self, identity_id: int) -> Identity:
        for person in self.people():
            if person.id == identity_id:
                return person
        raise NotFoundError(f"no enrolled person with id {identity_id}")

    def enroll(self, name: str, photo: RGB, *, label: str, face_index: int | None = None) -> Enrollment:
        """Enroll ``name`` from one photo after the photo rules (one face, or ``face_index``; big and sharp
        enough); warns about look-alikes. A taken name fails fast, before encoding."""
        pipeline, gallery = self._ready()
        clean = gallery.check_new_name(name)  # the name rules, before any model work
        with self._models():
            try:
                encoding = encode_checked(photo, name=label, pipeline=pipeline, face_index=face_index)
            except SeveralFacesError as err:
                raise SeveralFacesError(f"{err}; send the field face=N") from err
            except NoFaceError as err:
                raise plain_no_face(err, label) from err
            return store(gallery, clean, encoding[None], tau=pipeline.default_tau)

    def rename(self, identity_id: int, new_name: str) -> tuple[Identity, Identity]:
        gallery = self._ready()[1]
        with self._write_lock:
            before = self.person(identity_id)
            return before, gallery.rename(before.name, new_name)

    def remove(self, identity_id: int) -> Identity:
        gallery = self._ready()[1]
        with self._write_lock:
            return gallery.remove(self.person(identity_id).name)

    # ---- recognition -----------------------------------------------------------------------------
    def identify(self, photo: RGB, *, far: float = openset.DEFAULT_FAR) -> list[Recognition]:
        """Every face of the photo with its decision; an empty list when the photo shows no face."""
        pipeline, gallery = self._ready()
        with self._models():  # only the models need the lock; the gallery has its own
            faces = pipeline.encode_faces(photo)
        return recognize(gallery, faces, far=far, pipeline=pipeline)

    def identify_threshold(self, *, far: float = openset.DEFAULT_FAR) -> openset.Threshold:
        """The tau identify uses now, for this gallery's size and ``far``, with its reason."""
        pipeline, gallery = self._ready()
        return openset.choose_threshold(
            len(gallery),
            far=far,
            calibration=openset.calibration_for(pipeline.encoder.space.model_id),
            fallback_tau=pipeline.default_tau,
        )

    def verify_photos(
        self, first: RGB, second: RGB, *, labels: tuple[str, str] = ("the first photo", "the second photo")
    ) -> VerificationResult:
        """1:1 verification of two photos; errors and notes name the photos by ``labels``."""
        pipeline = self._ready()[0]
        names = ("<image 1>", "<image 2>")
        with self._models():
            try:
                result = verify(first, second, pipeline=pipeline)
            except NoFaceError as err:
                for name, label in zip(names, labels, strict=True):
                    err = plain_no_face(err, name, label)
                raise err from None
        notes = tuple(_relabel(note, names, labels) for note in result.notes)
        return replace(result, notes=notes)

    def verify_name(self, photo: RGB, name: str, *, label: str = "the photo") -> IdentityVerification:
        pipeline, gallery = self._ready()
        with self._models():
            try:
                return verify_id(gallery, photo, name, pipeline=pipeline)
            except NoFaceError as err:
                raise plain_no_face(err, "<image>", label) from err

    def threshold(self) -> Threshold:
        pipeline = self._ready()[0]
        space = pipeline.encoder.space
        source = getattr(pipeline.encoder, "default_tau_source", "") or "the encoder's default"
        tau = pipeline.default_tau
        return Threshold(
            tau=tau, tau_l2=squared_to_l2(tau), metric=space.metric, model_id=space.model_id, source=str(source)
        )


def plain_no_face(err: NoFaceError, name: str, label: str | None = None) -> NoFaceError:
    """The library's "<name>: no face found" as plain words for a person using the service; other
    face errors (e.g. a chosen face beyond those found) keep their message."""
    if str(err) != f"{name}: no face found":
        return err
    return NoFaceError(
        f"no face was found in {label or name}; use a photo in which the face is clearly visible and well lit"
    )


def _relabel(note: str, names: tuple[str, ...], labels: tuple[str, ...]) -> str:
    for name, label in zip(names, labels, strict=True):
        if note.startswith(f"{name}: "):
            return f"{label}: {note[len(name) + 2 :]}"
    return note


def build(settings: WebSettings) -> FaceDesk:
    return FaceDesk(settings)
