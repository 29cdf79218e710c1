"""Scores of verification pairs: encode every distinct image once, then score each pair.

A pair's score is distance-like (smaller = same person): the lecture's ``d = ||f(x_i) - f(x_j)||^2`` of
the two encodings, or ``-logit`` of a Siamese head on them. Images become encodings in one of two ways,
which give the same numbers for the same settings:

- :class:`PipelineImages`: every image through the full face pipeline (detect, align, encode with the
  config's test-time augmentation) in worker processes; nothing is stored.
- :class:`CachedImages`: aligned chips read from (or first written to) a :class:`ChipCache`, then encoded
  with the config's test-time augmentation; dlib and projection models read cached dlib encodings.

Images where no face is found count: the whole image is aligned instead, and they are listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from convapps.errors import ImageError, InvalidInputError
from convapps.face.chip_cache import ChipCache
from convapps.face.encoder_role import FaceEncoder
from convapps.face.lfw import FaceImage, PairIndex, pair_distances
from convapps.face.pipeline import FaceConfig


class ImageEncodings(Protocol):
    """Encodings of LFW-style images: ``encode(images) -> ((N, D) float32, names of images without a face)``."""

    label: str
    default_tau: float

    def encode(self, images: Sequence[FaceImage]) -> tuple[NDArray[np.float32], list[str]]:
        """Encodings of ``images`` in order, and the images where the whole image stood in for a face."""
        ...


@dataclass
class PipelineImages:
    """Images of the folder ``images`` through the face pipeline with ``config`` and ``model`` (a trained
    model file, or ``None`` for dlib's ResNet), in ``workers`` processes (default: all cores)."""

    images: Path
    config: FaceConfig
    model: str | None = None
    workers: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        from convapps.face.encoders import load_encoder

        encoder = load_encoder(self.model)
        self.label, self.default_tau = encoder.space.model_id, float(encoder.default_tau)

    def encode(self, images: Sequence[FaceImage]) -> tuple[NDArray[np.float32], list[str]]:
        from convapps.face.batch import encode_images

        paths = [im.in_folder(self.images) for im in images]
        config = replace(self.config, fallback_whole_image=True)
        rows, no_face = [], []
        results = encode_images(
            paths, config=config, model=self.model, workers=self.workers, progress=self.progress, largest=True
        )
        for result in results:
            if result.error:
                raise ImageError(result.error)
            rows.append(result.embeddings[0])
            if result.fallback:
                no_face.append(result.name)
        return _stack(rows), no_face


@dataclass
class CachedImages:
    """Chips of ``cache`` encoded by ``encoder`` with the test-time augmentation of ``config`` (``flip``,
    ``jitters``); the detection settings are the cache's."""

    cache: ChipCache
    encoder: FaceEncoder
    config: FaceConfig
    workers: int = 1
    progress: bool = True

    def __post_init__(self) -> None:
        self.label, self.default_tau = self.encoder.space.model_id, float(self.encoder.default_tau)

    def _from_dlib_cache(self, images: Sequence[FaceImage]) -> NDArray[np.float32] | None:
        """Encodings built from cached dlib encodings (dlib's ResNet, projection models), or None."""
        from convapps.face.encoders import DlibResnetEncoder

        project: Any = None
        if getattr(self.encoder, "kind", None) == "projection":
            project = self.encoder.encode_pretrained  # type: ignore[attr-defined]
        elif not (isinstance(self.encoder, DlibResnetEncoder) and self.encoder.backend == "torch"):
            return None
        if self.config.jitters:
            return None
        views = [False, True] if self.config.flip else [False]
        parts = []
        for mirror in views:
            self.cache.ensure_encodings(images, mirror=mirror, progress=self.progress)
            e = self.cache.encodings(images, mirror=mirror)
            parts.append(project(e) if project is not None else e)
        return (sum(parts[1:], parts[0]) / len(parts)).astype(np.float32)

    def encode(self, images: Sequence[FaceImage]) -> tuple[NDArray[np.float32], list[str]]:
        from convapps.face.pipeline import FacePipeline

        self.cache.ensure_chips(images, workers=self.workers, progress=self.progress)
        undetected = self.cache.undetected()
        no_face = [str(im.in_folder(self.cache.images)) for im in images if im.stem in undetected]
        encodings = self._from_dlib_cache(images)
        if encodings is None:
            pipe = FacePipeline(self.config, self.encoder)
            chunks = [self.cache.chips(images[i : i + 256]) for i in range(0, len(images), 256)]
            encodings = _stack([e for chips in chunks for e in pipe.encode_chips(chips)])
        return encodings, no_face


def _stack(rows: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
    return np.stack(rows).astype(np.float32) if len(rows) else np.zeros((0, 128), dtype=np.float32)


@dataclass
class PairScorer:
    """Scores pairs from the encodings of ``images``: squared L2 distance, or ``-logit`` of ``siamese``
    (a :class:`~convapps.nn.siamese_head.SiameseHead` on dlib encodings, with its threshold ``siamese_tau``)."""

    images: ImageEncodings
    siamese: Any = None
    siamese_tau: float | None = None
    siamese_label: str = "Siamese head"

    @property
    def label(self) -> str:
        """What scores the pairs, for reports."""
        return f"{self.siamese_label} on {self.images.label}" if self.siamese is not None else self.images.label

    @property
    def default_tau(self) -> float:
        """The scorer's own threshold (the model's default tau, or the Siamese head's)."""
        if self.siamese is not None and self.siamese_tau is not None:
            return self.siamese_tau
        return self.images.default_tau

    def score(self, index: PairIndex) -> tuple[NDArray[np.float64], list[str]]:
        """Scores ``(M,)`` of the pairs of ``index`` and the images without a detected face."""
        encodings, no_face = self.images.encode(index.images)
        if self.siamese is None:
            return pair_distances(encodings, index), no_face
        import torch

        enc = torch.from_numpy(encodings)
        with torch.no_grad():
            logits = self.siamese(enc[torch.from_numpy(index.first)], enc[torch.from_numpy(index.second)])
        return -logits.double().numpy(), no_face


def make_scorer(
    images: Path,
    *,
    config: FaceConfig | None = None,
    model: str | None = None,
    siamese: Path | None = None,
    cache: Path | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> PairScorer:
    """The scorer for a model (``None``: dlib's ResNet; a trained model file) or a Siamese head file on dlib
    encodings, over the images of the folder ``images``; with ``cache``, chips are cached in that folder.

    Raises:
        InvalidInputError: both a model and a Siamese head are given (the head scores dlib encodings).
    """
    cfg = config or FaceConfig()
    if siamese is not None and model not in (None, "dlib"):
        raise InvalidInputError("a Siamese head scores dlib encodings: give a model or a Siamese head, not both")
    source: ImageEncodings
    if cache is not None:
        from convapps.face.encoders import load_encoder

        chip_cache = ChipCache(cache, images, cfg)
        source = CachedImages(chip_cache, load_encoder(model), cfg, workers=workers or 1, progress=progress)
    else:
        source = PipelineImages(images, cfg, model, workers, progress)
    if siamese is None:
        return PairScorer(source)
    from convapps.face.trained_encoder import load_siamese_head

    head, tau = load_siamese_head(siamese)
    return PairScorer(source, head, tau, f"Siamese head {siamese}")
