"""The face front door: a handful of functions a newcomer can use from a notebook.

    >>> from convapps import face                                          # doctest: +SKIP
    >>> face.verify("me.jpg", "passport.jpg").same                         # 1:1, d <= tau
    >>> face.enroll("Ada Lovelace", ["ada.jpg"], gallery="team.db")        # one photo is enough
    >>> [r.label for r in face.identify("group.jpg", gallery="team.db")]   # 1:K, or "not recognized"
    >>> face.identify_video("door.mp4", gallery="team.db", out="door-named.mp4").tracks   # per track
    >>> for result in face.recognise_stream(camera_frames, "team.db"): ...   # frame by frame, live

Images are paths, bytes or RGB uint8 arrays ``(H, W, 3)``. ``gallery`` is an open
:class:`~convapps.gallery.Gallery` or a gallery URL (a path, ``sqlite:///...``, ``milvus://host:port``;
None = the default gallery of the user's data folder). The default pipeline (dlib HOG detector, 5-point
alignment, dlib's 128-d ResNet) loads once, on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import NDArray

from convapps.face import enrollment, recognition, verification
from convapps.face.enrollment import Enrollment
from convapps.face.openset import DEFAULT_FAR
from convapps.face.pipeline import DetectedFace, FacePipeline, default_pipeline
from convapps.face.recognition import IdentityVerification, Recognition
from convapps.face.verification import VerificationResult
from convapps.gallery import Gallery, Metadata, open_gallery
from convapps.io.image_input import ImageInput, read_rgb

if TYPE_CHECKING:
    from convapps.face.stream import StreamConfig
    from convapps.face.stream_results import FrameResult
    from convapps.face.video import VideoReport

GalleryInput = Gallery | str | Path | None


@contextmanager
def _gallery(gallery: GalleryInput, pipeline: FacePipeline, *, create: bool) -> Iterator[Gallery]:
    """Use an open gallery as it is; open (and close) one given by URL."""
    if isinstance(gallery, Gallery):
        yield gallery
        return
    with open_gallery(gallery, space=pipeline.encoder.space, create=create) as opened:
        yield opened


def detect(image: ImageInput, *, pipeline: FacePipeline | None = None) -> list[DetectedFace]:
    """Every face of an image (largest first): box ``(left, top, right, bottom)``, score, 5 landmarks."""
    return (pipeline or default_pipeline()).detect(read_rgb(image, "<image>")[0])


def encode(image: ImageInput, *, pipeline: FacePipeline | None = None) -> NDArray[np.float32]:
    """The encodings f(x) ``(N, 128)`` of the N faces of an image (largest first; ``(0, 128)`` if none)."""
    pipe = pipeline or default_pipeline()
    rgb, name = read_rgb(image, "<image>")
    faces = pipe.encode_faces(rgb, name=name)
    if not faces:
        return np.zeros((0, pipe.encoder.space.dim), dtype=np.float32)
    return np.stack([f.embedding for f in faces]).astype(np.float32)


def verify(
    image1: ImageInput, image2: ImageInput, *, tau: float | None = None, pipeline: FacePipeline | None = None
) -> VerificationResult:
    """Is ``image2`` the person of ``image1``? ``d = ||f(img1) - f(img2)||^2 <= tau`` (largest faces)."""
    return verification.verify(image1, image2, tau=tau, pipeline=pipeline)


def enroll(
    name: str,
    images: ImageInput | Sequence[ImageInput],
    *,
    gallery: GalleryInput = None,
    add: bool = False,
    face_index: int | None = None,
    metadata: Metadata | None = None,
    pipeline: FacePipeline | None = None,
) -> Enrollment:
    """Enroll ``name`` from one photo (one-shot) or several; ``add=True`` adds photos to an enrolled person.

    Photos are checked first (one face, or ``face_index`` to choose; big and sharp enough); the result
    carries warnings such as a look-alike already enrolled.
    """
    pipe = pipeline or default_pipeline()
    photos: list[ImageInput] = list(images) if isinstance(images, list | tuple) else [cast(ImageInput, images)]
    with _gallery(gallery, pipe, create=True) as store:
        return enrollment.enroll(store, name, photos, pipeline=pipe, metadata=metadata, add=add, face_index=face_index)


def identify(
    image: ImageInput,
    *,
    gallery: GalleryInput = None,
    far: float = DEFAULT_FAR,
    tau: float | None = None,
    pipeline: FacePipeline | None = None,
) -> list[Recognition]:
    """Every face of a photo (largest first): the enrolled person it is, or "not recognized".

    tau adapts to the number of people enrolled so that a stranger gets a name with probability ``far``
    (default 1%) per search; ``r.decision.threshold.reason`` says which tau was used and why.
    """
    pipe = pipeline or default_pipeline()
    with _gallery(gallery, pipe, create=False) as store:
        return recognition.identify(store, image, far=far, tau=tau, pipeline=pipe)


def verify_id(
    image: ImageInput,
    name: str,
    *,
    gallery: GalleryInput = None,
    tau: float | None = None,
    pipeline: FacePipeline | None = None,
) -> IdentityVerification:
    """Is the (largest) face of ``image`` the enrolled person ``name``? (1:1 against the gallery)."""
    pipe = pipeline or default_pipeline()
    with _gallery(gallery, pipe, create=False) as store:
        return recognition.verify_id(store, image, name, tau=tau, pipeline=pipe)


def identify_video(
    video: str | Path,
    *,
    gallery: GalleryInput = None,
    out: str | Path | None = None,
    config: StreamConfig | None = None,
    pipeline: FacePipeline | None = None,
    on_frame: Callable[[FrameResult], None] | None = None,
) -> VideoReport:
    """Who appears in a video file, and when: one name or "not recognized" per face track.

    ``out`` gets a copy with boxes, names and track ids; ``report.timeline()`` is the JSON timeline.
    """
    from convapps.face.video import identify_video as run

    pipe = pipeline or default_pipeline()
    with _gallery(gallery, pipe, create=False) as store:
        return run(video, store, out=out, config=config, pipeline=pipe, on_frame=on_frame)


def recognise_stream(
    frames: Iterable[NDArray[np.uint8] | tuple[float, NDArray[np.uint8]]],
    gallery: GalleryInput = None,
    *,
    config: StreamConfig | None = None,
    pipeline: FacePipeline | None = None,
    fps: float = 25.0,
) -> Iterator[FrameResult]:
    """Recognise faces frame by frame (RGB arrays, or ``(time_s, rgb)`` pairs): one FrameResult per frame."""
    from convapps.face import stream

    pipe = pipeline or default_pipeline()
    with _gallery(gallery, pipe, create=False) as store:
        yield from stream.recognise_stream(frames, store, pipeline=pipe, config=config, fps=fps)
