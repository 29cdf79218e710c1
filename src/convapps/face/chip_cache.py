"""Aligned chips and pretrained dlib encodings of LFW-style images, computed once and cached on disk.

Detection + 5-point alignment (:meth:`FacePipeline.detect` and :meth:`FacePipeline.align`) costs ~15 ms
per LFW image and dlib's ResNet ~0.1 s per chip on this CPU, so every trainer, evaluation and benchmark
reads them from a cache folder::

    <cache>/chips/<Name>/<Name>_<NNNN>.npy        (150, 150, 3) uint8 aligned chip (default detection)
    <cache>/dlib/<Name>/<Name>_<NNNN>.npy         (128,) float32 dlib ResNet encoding of that chip
    <cache>/dlib-mirror/<Name>/<Name>_<NNNN>.npy  the same for the chip's mirror image
    <cache>/undetected.txt                        images where no face was found
    <cache>/source.txt                            the image folder the chips come from

When the detector finds no face (about 1% of LFW with HOG), the pipeline's whole-image fallback box is
aligned instead (LFW images are centred on the face), so every image has a chip; the list is kept. Chips
of another detection setting (detector, upsampling) go to ``chips-<digest>/`` (and ``chips-<digest>-dlib/``).
One cache folder serves one image folder: using it for another raises :class:`InvalidInputError`.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from convapps.errors import InvalidInputError
from convapps.face.lfw import IMAGES_DIR, FaceImage, check_lfw_root
from convapps.face.pipeline import FaceConfig, FacePipeline

DETECTION_FIELDS = ("detector", "upsample", "min_face_fraction", "retry_upsample", "min_face_px", "max_detect_pixels")
_KEYED_SINCE_V1 = {"min_face_px": 0, "max_detect_pixels": 16_000_000}
"""Detection fields added after the first cache format: in the key only when not at these defaults, so
caches made before them stay valid."""
CHIP_SHAPE = (150, 150, 3)


def _detection_key(config: FaceConfig) -> str:
    values = [getattr(config, name) for name in DETECTION_FIELDS if name not in _KEYED_SINCE_V1]
    extra = [(name, getattr(config, name)) for name, old in _KEYED_SINCE_V1.items() if getattr(config, name) != old]
    return repr(tuple(values + extra))


@dataclass(frozen=True)
class ChipCache:
    """The cache folder ``folder`` of the images in ``images`` (``<Name>/<Name>_<NNNN>.jpg``), for the
    detection settings of ``detection`` (its test-time augmentation fields are not used here)."""

    folder: Path
    images: Path
    detection: FaceConfig = field(default_factory=FaceConfig)

    @classmethod
    def for_lfw(cls, root: Path, folder: Path, detection: FaceConfig | None = None) -> ChipCache:
        """The cache of the images of the LFW folder ``root`` (``root/lfw-deepfunneled``)."""
        return cls(folder, check_lfw_root(root) / IMAGES_DIR, detection or FaceConfig())

    @property
    def kind(self) -> str:
        """``chips`` for the default detection settings, ``chips-<digest>`` for others."""
        key = _detection_key(self.detection)
        if key == _detection_key(FaceConfig()):
            return "chips"
        return "chips-" + hashlib.sha256(key.encode()).hexdigest()[:8]

    def _encodings_dir(self, mirror: bool) -> str:
        base = "dlib" if self.kind == "chips" else f"{self.kind}-dlib"
        return base + ("-mirror" if mirror else "")

    def _file(self, sub: str, image: FaceImage) -> Path:
        return self.folder / sub / image.name / f"{image.stem}.npy"

    @property
    def undetected_file(self) -> Path:
        """The list of images where no face was found (one stem per line)."""
        return self.folder / ("undetected.txt" if self.kind == "chips" else f"{self.kind}.undetected.txt")

    def _check_source(self) -> None:
        """Record the image folder on first use; refuse a cache made from another image folder."""
        source = self.folder / "source.txt"
        here = str(self.images.resolve())
        if source.is_file():
            recorded = source.read_text().strip()
            if recorded and recorded != here:
                raise InvalidInputError(f"cache {self.folder} holds chips of {recorded}, not of {here}")
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        source.write_text(here + "\n")

    def ensure_chips(self, images: Sequence[FaceImage], *, workers: int = 1, progress: bool = True) -> int:
        """Compute and store the chips of ``images`` missing from the cache; returns how many were computed."""
        self._check_source()
        missing = [im for im in images if not self._file(self.kind, im).is_file()]
        if not missing:
            return 0
        undetected: list[str] = []
        paths = [im.in_folder(self.images) for im in missing]
        bar = tqdm(total=len(missing), desc="align faces", unit="img", file=sys.stderr, disable=not progress)
        for im, (chip, detected) in zip(missing, _chips(paths, self.detection, workers), strict=True):
            target = self._file(self.kind, im)
            target.parent.mkdir(parents=True, exist_ok=True)
            np.save(target, chip)
            if not detected:
                undetected.append(im.stem)
            bar.update(1)
        bar.close()
        if undetected:
            with self.undetected_file.open("a") as f:
                f.write("".join(u + "\n" for u in undetected))
        return len(missing)

    def chips(self, images: Sequence[FaceImage]) -> NDArray[np.uint8]:
        """Cached chips ``(N, 150, 150, 3)`` uint8 of ``images`` (computed first with :meth:`ensure_chips`)."""
        if not images:
            return np.zeros((0, *CHIP_SHAPE), dtype=np.uint8)
        return np.stack([np.load(self._file(self.kind, im)) for im in images])

    def undetected(self) -> set[str]:
        """Stems (``<Name>_<NNNN>``) of the cached images where no face was found."""
        if not self.undetected_file.is_file():
            return set()
        return {line.strip() for line in self.undetected_file.read_text().splitlines() if line.strip()}

    def ensure_encodings(self, images: Sequence[FaceImage], *, mirror: bool = False, progress: bool = True) -> int:
        """Compute and store dlib ResNet encodings (no jitter) of the chips of ``images`` (of their mirror
        images with ``mirror``) missing from the cache; returns how many were computed."""
        self.ensure_chips(images, progress=progress)
        sub = self._encodings_dir(mirror)
        missing = [im for im in images if not self._file(sub, im).is_file()]
        if not missing:
            return 0
        from convapps.face.encoders import load_encoder

        encoder = load_encoder(None)
        step = 64
        bar = tqdm(total=len(missing), desc="encode chips", unit="img", file=sys.stderr, disable=not progress)
        for start in range(0, len(missing), step):
            part = missing[start : start + step]
            chips = self.chips(part)
            encodings = encoder.encode_chips(np.ascontiguousarray(chips[:, :, ::-1]) if mirror else chips)
            for im, e in zip(part, encodings, strict=True):
                target = self._file(sub, im)
                target.parent.mkdir(parents=True, exist_ok=True)
                np.save(target, e.astype(np.float32))
            bar.update(len(part))
        bar.close()
        return len(missing)

    def encodings(self, images: Sequence[FaceImage], *, mirror: bool = False) -> NDArray[np.float32]:
        """Cached dlib encodings ``(N, 128)`` float32 of ``images`` (see :meth:`ensure_encodings`)."""
        if not images:
            return np.zeros((0, 128), dtype=np.float32)
        sub = self._encodings_dir(mirror)
        return np.stack([np.load(self._file(sub, im)) for im in images]).astype(np.float32)


_WORKER: dict[str, FacePipeline] = {}


def _init_worker(detection: dict[str, object]) -> None:
    _WORKER["pipe"] = FacePipeline(FaceConfig(**detection))  # type: ignore[arg-type]


def _chip_of(path: Path) -> tuple[NDArray[np.uint8], bool]:
    """The aligned chip of the largest face of ``path`` (the whole image when none) and whether one was found."""
    from convapps.io.images import load_image

    pipe = _WORKER["pipe"]
    rgb = load_image(path)
    faces = pipe.detect(rgb)
    face = faces[0] if faces else pipe.whole_image_face(rgb)
    return pipe.align(rgb, face), bool(faces)


def _chips(paths: Sequence[Path], detection: FaceConfig, workers: int) -> Iterator[tuple[NDArray[np.uint8], bool]]:
    """Chips of ``paths`` in order, in ``workers`` processes (forkserver: never fork after torch ran)."""
    settings = {f.name: getattr(detection, f.name) for f in fields(detection) if f.name in DETECTION_FIELDS}
    if workers < 1:
        raise InvalidInputError(f"workers must be >= 1, got {workers}")
    if workers == 1 or len(paths) < 2 * workers:
        _init_worker(settings)
        yield from (_chip_of(p) for p in paths)
        return
    ctx = mp.get_context("forkserver") if sys.platform.startswith("linux") else mp.get_context("spawn")
    with ProcessPoolExecutor(min(workers, os.cpu_count() or 1), mp_context=ctx,
                             initializer=_init_worker, initargs=(settings,)) as pool:  # fmt: skip
        yield from pool.map(_chip_of, paths, chunksize=8)
