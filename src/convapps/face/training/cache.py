"""Aligned chips and pretrained encodings of LFW images, computed once and cached on disk.

Detection + 5-point alignment (the verification pipeline's :meth:`FacePipeline.detect` and
:meth:`FacePipeline.align`) costs ~15 ms per LFW image and dlib's ResNet ~0.1 s per chip on this CPU, so
every trainer and benchmark reads them from a cache folder::

    <cache>/chips/<Name>/<Name>_<NNNN>.npy     (150, 150, 3) uint8 aligned chip
    <cache>/dlib/<Name>/<Name>_<NNNN>.npy      (128,) float32 dlib ResNet encoding of that chip (no flip)
    <cache>/undetected.txt                     images where no face was found

When the HOG detector finds no face (about 1% of LFW), the pipeline's whole-image fallback box is aligned
instead (LFW images are centred on the face), so every image has a chip; the list is kept.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from convapps.face.training.lfw import FaceImage
from convapps.io.images import load_image

CHIPS = "chips"
DLIB = "dlib"


def _file(cache: Path, kind: str, image: FaceImage) -> Path:
    return cache / kind / image.name / f"{image.name}_{image.number:04d}.npy"


def _pipeline() -> object:
    from convapps.face.pipeline import FaceConfig, FacePipeline

    return FacePipeline(FaceConfig(flip=False))


def ensure_chips(root: Path, images: Sequence[FaceImage], cache: Path, *, progress: bool = True) -> int:
    """Compute and store the chips of ``images`` missing from ``cache``; returns how many were computed."""
    missing = [im for im in images if not _file(cache, CHIPS, im).is_file()]
    if not missing:
        return 0
    pipe = _pipeline()
    undetected: list[str] = []
    for im in tqdm(missing, desc="align faces", unit="img", file=sys.stderr, disable=not progress):
        rgb = load_image(im.path(root))
        faces = pipe.detect(rgb)  # type: ignore[attr-defined]
        if not faces:
            faces = [pipe.whole_image_face(rgb)]  # type: ignore[attr-defined]
            undetected.append(f"{im.name}_{im.number:04d}")
        chip = pipe.align(rgb, faces[0])  # type: ignore[attr-defined]
        target = _file(cache, CHIPS, im)
        target.parent.mkdir(parents=True, exist_ok=True)
        np.save(target, chip)
    if undetected:
        with (cache / "undetected.txt").open("a") as f:
            f.write("".join(u + "\n" for u in undetected))
    return len(missing)


def load_chips(images: Sequence[FaceImage], cache: Path) -> NDArray[np.uint8]:
    """Cached chips ``(N, 150, 150, 3)`` uint8 of ``images`` (computed first with :func:`ensure_chips`)."""
    if not images:
        return np.zeros((0, 150, 150, 3), dtype=np.uint8)
    return np.stack([np.load(_file(cache, CHIPS, im)) for im in images])


def ensure_encodings(root: Path, images: Sequence[FaceImage], cache: Path, *, progress: bool = True) -> int:
    """Compute and store dlib ResNet encodings (no flip, no jitter) of ``images`` missing from ``cache``."""
    ensure_chips(root, images, cache, progress=progress)
    missing = [im for im in images if not _file(cache, DLIB, im).is_file()]
    if not missing:
        return 0
    from convapps.face.encoders import load_encoder

    encoder = load_encoder(None)
    step = 64
    bar = tqdm(total=len(missing), desc="encode chips", unit="img", file=sys.stderr, disable=not progress)
    for start in range(0, len(missing), step):
        part = missing[start : start + step]
        encodings = encoder.encode_chips(load_chips(part, cache))
        for im, e in zip(part, encodings, strict=True):
            target = _file(cache, DLIB, im)
            target.parent.mkdir(parents=True, exist_ok=True)
            np.save(target, e.astype(np.float32))
        bar.update(len(part))
    bar.close()
    return len(missing)


def load_encodings(images: Sequence[FaceImage], cache: Path) -> NDArray[np.float32]:
    """Cached dlib encodings ``(N, 128)`` float32 of ``images`` (see :func:`ensure_encodings`)."""
    if not images:
        return np.zeros((0, 128), dtype=np.float32)
    return np.stack([np.load(_file(cache, DLIB, im)) for im in images]).astype(np.float32)
