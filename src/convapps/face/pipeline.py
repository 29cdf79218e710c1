"""The face pipeline: detect -> 5 landmarks -> align to a 150x150 chip -> encode f(x).

>>> pipe = default_pipeline()
>>> enc = pipe.encode_one(load_image("a.jpg"), name="a.jpg")      # the largest face
>>> enc.embedding.shape
(128,)

Detection upsampling is chosen per image ("auto"): dlib's HOG detector scans an 80x80 window, so a face
smaller than 80 px is found only after upsampling the image (each step doubles it and costs ~4x). The
auto policy upsamples just enough that a face covering ``min_face_fraction`` of the shorter side reaches
80 px (0 steps for a 250 px LFW photo, 1 step below ~240 px), and retries one step higher when nothing
was found, so small faces are still found while most photos pay for one cheap pass.

Group photos need more: a small face beside larger ones is not "nothing found", so the retry never
fires for it. ``min_face_px`` sets the smallest face to find in pixels whatever the photo (the photo
archive uses 28 px: dlib's ResNet still tells LFW pairs apart at 30 px and falls off at 20, see
``benchmarks/bench_face_small.py``), and the auto policy adds one detector pass per further upsampling
step until that face reaches the detector's window, within ``max_detect_pixels`` (each step quadruples
the pixels scanned).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from convapps.errors import InvalidInputError, NoFaceError
from convapps.face.encoders import DlibResnetEncoder, FaceEncoder, load_encoder
from convapps.models.dlib_face import dlib_module, load_cnn_detector, load_hog_detector, load_landmarks5
from convapps.models.registry import DLIB_RESNET

Box = tuple[int, int, int, int]
"""(left, top, right, bottom) in pixels, right/bottom inclusive (dlib's rectangle convention)."""

HOG_WINDOW = 80
"""Side (pixels) of the smallest face dlib's HOG detector finds without upsampling."""


@dataclass(frozen=True)
class FaceConfig:
    """How the pipeline finds and encodes faces. Defaults are convapps' tuned configuration.

    Attributes:
        detector: ``"hog"`` (dlib's HOG + SVM, fast on a CPU) or ``"cnn"`` (dlib's MMOD CNN, slower,
            finds rotated/small faces better).
        upsample: detector upsampling steps, or ``"auto"`` (chosen per image size, see module doc).
        min_face_fraction: for ``"auto"``: smallest face to find, as a fraction of the shorter side.
        retry_upsample: for ``"auto"``: when nothing is found, retry once with one more step.
        min_face_px: for ``"auto"``: also find faces down to this side in pixels, whatever the photo's size
            (0 = only the ``min_face_fraction`` rule). Photo archives use 28.
        max_detect_pixels: for ``"auto"``: upsampling stops before the scanned image exceeds this many
            pixels (16 MP: a 1000x1000 photo may be upsampled twice, a 12 MP one not at all).
        jitters: dlib jitters per chip (0 = none; 10 costs 10x the encoding time).
        flip: average the encodings of the chip and its mirror image (test-time augmentation, 2x cost).
        fallback_whole_image: when no face is found, treat the whole image as the face box (the LFW
            protocol needs an answer for every pair) instead of raising :class:`NoFaceError`.
    """

    detector: Literal["hog", "cnn"] = "hog"
    upsample: int | Literal["auto"] = "auto"
    min_face_fraction: float = 1 / 3
    retry_upsample: bool = True
    min_face_px: int = 0
    max_detect_pixels: int = 16_000_000
    jitters: int = 0
    flip: bool = True
    fallback_whole_image: bool = False

    def __post_init__(self) -> None:
        if self.detector not in ("hog", "cnn"):
            raise InvalidInputError(f"detector must be 'hog' or 'cnn', got {self.detector!r}")
        if self.upsample != "auto" and (not isinstance(self.upsample, int) or not 0 <= self.upsample <= 4):
            raise InvalidInputError(f"upsample must be 'auto' or an integer 0..4, got {self.upsample!r}")
        if not 0 < self.min_face_fraction <= 1:
            raise InvalidInputError(f"min_face_fraction must be in (0, 1], got {self.min_face_fraction}")
        if self.jitters < 0:
            raise InvalidInputError(f"jitters must be >= 0, got {self.jitters}")
        if self.min_face_px < 0 or self.max_detect_pixels < 1:
            raise InvalidInputError(
                f"min_face_px must be >= 0 and max_detect_pixels >= 1, got {self.min_face_px}, {self.max_detect_pixels}"
            )


LIBRARY_CONFIG = FaceConfig(upsample=1, retry_upsample=False, flip=False, jitters=0)
"""The face_recognition library's defaults (HOG, 1 upsampling, 5 landmarks, no jitter, no flip)."""


@dataclass(frozen=True)
class DetectedFace:
    """A face found in an image: box, detector score, 5 landmarks ``(5, 2)`` as (x, y) pixels."""

    box: Box
    score: float
    landmarks: NDArray[np.float64]
    detected: bool = True
    """False when the box is the whole-image fallback (no face was found)."""

    @property
    def area(self) -> int:
        left, top, right, bottom = self.box
        return max(0, right - left + 1) * max(0, bottom - top + 1)


@dataclass(frozen=True)
class FaceEncoding:
    """One face's encoding f(x) ``(D,)`` float32 with where it came from."""

    name: str
    box: Box
    embedding: NDArray[np.float32] = field(repr=False)
    face_index: int = 0
    n_faces: int = 1
    detected: bool = True


def auto_upsample(
    height: int,
    width: int,
    *,
    min_face_fraction: float = 1 / 3,
    min_face_px: int = 0,
    max_pixels: int | None = None,
) -> int:
    """Upsampling steps (0..3) so that the smallest face to find reaches the detector's 80 px window.

    The smallest face is ``min_face_fraction`` x the shorter side, or ``min_face_px`` when that is smaller
    (and not 0); steps stop before ``height * width * 4**steps`` exceeds ``max_pixels``.
    """
    face = min_face_fraction * min(height, width)
    if min_face_px > 0:
        face = min(face, float(min_face_px))
    steps = int(min(3, max(0, math.ceil(math.log2(HOG_WINDOW / max(1.0, face)) - 1e-9))))
    while max_pixels is not None and steps > 0 and height * width * 4**steps > max_pixels:
        steps -= 1
    return steps


class FacePipeline:
    """Detect, align and encode faces with one encoder and one :class:`FaceConfig`."""

    def __init__(self, config: FaceConfig | None = None, encoder: FaceEncoder | None = None) -> None:
        self.config = config or FaceConfig()
        self.encoder: FaceEncoder = encoder if encoder is not None else load_encoder(None)
        if self.config.jitters and not getattr(self.encoder, "supports_jitter", False):
            raise InvalidInputError("jitters > 0 needs an encoder that supports jitter (dlib's ResNet)")
        self._dlib = dlib_module()
        self._landmarks = load_landmarks5()
        self._hog = load_hog_detector() if self.config.detector == "hog" else None
        self._cnn = load_cnn_detector() if self.config.detector == "cnn" else None

    @property
    def default_tau(self) -> float:
        return float(self.encoder.default_tau)

    def _run_detector(self, rgb: NDArray[np.uint8], upsample: int) -> list[tuple[Any, float]]:
        if self._hog is not None:
            rects, scores, _ = self._hog.run(rgb, upsample, 0.0)
            return list(zip(rects, (float(s) for s in scores), strict=True))
        assert self._cnn is not None
        return [(d.rect, float(d.confidence)) for d in self._cnn(rgb, upsample)]

    def _landmarks_in(self, rgb: NDArray[np.uint8], rect: Any) -> NDArray[np.float64]:
        shape = self._landmarks(rgb, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def _detect_auto(self, image: NDArray[np.uint8]) -> list[tuple[Any, float]]:
        """The auto policy (module doc): the cheap pass for faces of ``min_face_fraction``, then, when
        ``min_face_px`` needs more steps, one pass per further step whose new faces (not overlapping those
        already found) are added; one more step when nothing at all was found; all within ``max_detect_pixels``."""
        config = self.config
        height, width = image.shape[:2]
        budget = config.max_detect_pixels
        steps = auto_upsample(height, width, min_face_fraction=config.min_face_fraction, max_pixels=budget)
        found = self._run_detector(image, steps)
        if config.min_face_px > 0:
            small = auto_upsample(
                height,
                width,
                min_face_fraction=config.min_face_fraction,
                min_face_px=config.min_face_px,
                max_pixels=budget,
            )
            for more in range(steps + 1, small + 1):  # each octave gets its own pass: a single deep pass
                found += [  # misses faces just above the window of the shallower passes
                    (rect, score)
                    for rect, score in self._run_detector(image, more)
                    if all(_overlap(rect, kept) < 0.3 for kept, _ in found)
                ]
            steps = max(steps, small)
        if not found and config.retry_upsample and steps < 3 and height * width * 4 ** (steps + 1) <= budget:
            found = self._run_detector(image, steps + 1)
        return found

    def detect(self, rgb: NDArray[np.uint8], *, upsample: int | None = None) -> list[DetectedFace]:
        """All faces in an RGB uint8 ``(H, W, 3)`` image, largest first (box, score, 5 landmarks).

        ``upsample`` overrides the config's upsampling for this call (video fixes it once per stream)."""
        image = _check_rgb(rgb)
        height, width = image.shape[:2]
        if upsample is not None:
            found = self._run_detector(image, upsample)
        elif self.config.upsample == "auto":
            found = self._detect_auto(image)
        else:
            found = self._run_detector(image, self.config.upsample)
        faces = []
        for rect, score in found:
            # landmarks are predicted in the box trimmed to the image as face_recognition trims it (right and
            # bottom to W and H), so both give the same encodings; the reported box is clipped to the pixels
            left, top = max(0, int(rect.left())), max(0, int(rect.top()))
            right, bottom = min(width, int(rect.right())), min(height, int(rect.bottom()))
            trimmed = self._dlib.rectangle(left, top, right, bottom)
            box = (left, top, min(width - 1, right), min(height - 1, bottom))
            faces.append(DetectedFace(box=box, score=score, landmarks=self._landmarks_in(image, trimmed)))
        return sorted(faces, key=lambda f: (-f.area, -f.score))

    def whole_image_face(self, rgb: NDArray[np.uint8]) -> DetectedFace:
        """The fallback "face": the whole image as the box, landmarks predicted inside it.

        The landmark predictor gets the rectangle (0, 0, W, H), as face_recognition does for a whole-image
        location, so both give the same encoding; the reported box is clipped to the pixels.
        """
        image = _check_rgb(rgb)
        height, width = image.shape[:2]
        rect = self._dlib.rectangle(0, 0, width, height)
        return DetectedFace(
            box=(0, 0, width - 1, height - 1), score=0.0, landmarks=self._landmarks_in(image, rect), detected=False
        )

    def align(self, rgb: NDArray[np.uint8], face: DetectedFace) -> NDArray[np.uint8]:
        """The face's aligned ``(150, 150, 3)`` uint8 chip (dlib's ``get_face_chip``, padding 0.25)."""
        dlib = self._dlib
        rect = dlib.rectangle(*face.box)
        points = dlib.points([dlib.point(round(x), round(y)) for x, y in face.landmarks])
        shape = dlib.full_object_detection(rect, points)
        return np.asarray(dlib.get_face_chip(_check_rgb(rgb), shape, DLIB_RESNET.chip_size, DLIB_RESNET.chip_padding))

    def encode_chips(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Encode ``(N, 150, 150, 3)`` chips with this config's test-time augmentation -> ``(N, D)``."""
        batch = np.asarray(chips)
        if batch.ndim == 3:
            batch = batch[None]
        if self.config.flip:
            batch = np.concatenate([batch, batch[:, :, ::-1, :]], axis=0)
        if self.config.jitters and isinstance(self.encoder, DlibResnetEncoder):
            out = self.encoder.encode_chips(batch, jitters=self.config.jitters)
        else:
            out = self.encoder.encode_chips(np.ascontiguousarray(batch))
        if self.config.flip:
            half = len(out) // 2
            out = (out[:half] + out[half:]) / 2.0
        return out.astype(np.float32)

    def encode_faces(self, rgb: NDArray[np.uint8], *, name: str = "<image>") -> list[FaceEncoding]:
        """Encodings of every face found, largest first (empty list when there is none)."""
        image = _check_rgb(rgb)
        faces = self.detect(image)
        if not faces:
            return []
        chips = np.stack([self.align(image, f) for f in faces])
        embeddings = self.encode_chips(chips)
        return [
            FaceEncoding(name=name, box=f.box, embedding=e, face_index=i, n_faces=len(faces), detected=True)
            for i, (f, e) in enumerate(zip(faces, embeddings, strict=True))
        ]

    def encode_one(self, rgb: NDArray[np.uint8], face_index: int = 0, *, name: str = "<image>") -> FaceEncoding:
        """Encoding of one face (index 0 = largest).

        Raises:
            NoFaceError: no face was found (and ``fallback_whole_image`` is off), or fewer faces than
                ``face_index + 1``. The message names the image.
        """
        image = _check_rgb(rgb)
        faces = self.detect(image)
        if not faces:
            if not self.config.fallback_whole_image:
                raise NoFaceError(f"{name}: no face found")
            faces = [self.whole_image_face(image)]
        if not 0 <= face_index < len(faces):
            raise NoFaceError(
                f"{name}: face {face_index} requested but {len(faces)} face(s) found (0..{len(faces) - 1})"
            )
        face = faces[face_index]
        embedding = self.encode_chips(self.align(image, face)[None])[0]
        return FaceEncoding(
            name=name,
            box=face.box,
            embedding=embedding,
            face_index=face_index,
            n_faces=len(faces),
            detected=face.detected,
        )


def _overlap(a: Any, b: Any) -> float:
    """Intersection over union of two dlib rectangles."""
    common = a.intersect(b)
    inter = 0 if common.is_empty() else common.area()
    union = a.area() + b.area() - inter
    return float(inter) / union if union > 0 else 0.0


def _check_rgb(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise InvalidInputError(f"expected an RGB uint8 (H, W, 3) image, got {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr)


@functools.cache
def default_pipeline() -> FacePipeline:
    """The process-wide pipeline with the default config and dlib's ResNet (built once, on first use)."""
    return FacePipeline()
