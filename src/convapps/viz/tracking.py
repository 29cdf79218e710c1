"""One pass over an image folder: batched forward passes, a streaming top-k per probed layer.

Every image is read with :func:`convapps.io.images.load_image`, scaled so its shorter side is ``size`` and
centre-cropped to ``size x size`` (:func:`square_image`): the network sees exactly that array, and the
receptive-field boxes are in its pixel coordinates. Unreadable files are skipped and counted. Memory is
bounded by one batch of images and activations plus O(C k) per layer, whatever the number of images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from convapps.core.topk import DEFAULT_K, StreamingTopK, TopKResult
from convapps.errors import ImageError, InvalidInputError, NotFoundError
from convapps.io.images import load_image
from convapps.viz.networks import ProbeNetwork

DECODE_SIDE_FACTOR = 4
"""Images are decoded at most ``4 * size`` pixels on their longer side (JPEG DCT scaling) before resizing."""


def list_image_files(folder: Path) -> list[Path]:
    """Every non-hidden file under ``folder`` (recursively), sorted; images are recognised when read."""
    if not folder.exists():
        raise NotFoundError(f"image folder {folder} does not exist")
    if not folder.is_dir():
        raise InvalidInputError(f"{folder} is not a folder: give a folder of images")
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    if not files:
        raise InvalidInputError(f"image folder {folder} is empty: put JPEG/PNG/WebP/BMP/TIFF images in it")
    return sorted(files)


def square_image(image: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    """Scale RGB ``(H, W, 3)`` so the shorter side is ``size``, then centre-crop ``(size, size, 3)``."""
    height, width = image.shape[:2]
    scale = size / min(height, width)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    pil = Image.fromarray(image)
    if (new_w, new_h) != (width, height):
        pil = pil.resize((new_w, new_h), Image.Resampling.BILINEAR, reducing_gap=2.0)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return np.ascontiguousarray(np.asarray(pil.crop((left, top, left + size, top + size)), dtype=np.uint8))


def load_square(path: Path, size: int) -> NDArray[np.uint8]:
    """Read ``path`` (safely) and return the ``size x size`` array the network sees."""
    return square_image(load_image(path, max_side=DECODE_SIDE_FACTOR * size), size)


@dataclass
class TrackingResult:
    """What one pass found: top-k per layer, the image files by id, and what was skipped."""

    topk: dict[str, TopKResult]
    files: list[Path]
    """Image id -> file (ids index this list; skipped files keep their id but are never in a top-k)."""
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    size: int = 224

    @property
    def images_used(self) -> int:
        """Number of images actually run through the network."""
        return len(self.files) - len(self.skipped)


def _batches(
    files: Sequence[Path], size: int, batch_size: int, skipped: list[tuple[Path, str]]
) -> Iterator[tuple[list[int], NDArray[np.uint8]]]:
    ids: list[int] = []
    arrays: list[NDArray[np.uint8]] = []
    for index, path in enumerate(files):
        try:
            arrays.append(load_square(path, size))
        except ImageError as err:
            skipped.append((path, str(err)))
            continue
        ids.append(index)
        if len(ids) == batch_size:
            yield ids, np.stack(arrays)
            ids, arrays = [], []
    if ids:
        yield ids, np.stack(arrays)


def track_top_patches(
    network: ProbeNetwork,
    layers: Sequence[str],
    files: Sequence[Path],
    *,
    size: int = 224,
    k: int = DEFAULT_K,
    batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
) -> TrackingResult:
    """Run ``network`` over ``files`` in batches and keep the top-``k`` images of every unit of ``layers``.

    ``progress(n)`` is called after each batch with the number of files consumed (read or skipped).
    Raises :class:`InvalidInputError` when no file is a readable image.
    """
    if size < 8 or batch_size < 1:
        raise InvalidInputError(f"size must be >= 8 and batch size >= 1, got {size} and {batch_size}")
    trackers = {name: StreamingTopK(network.channels(name), k=k) for name in layers}
    skipped: list[tuple[Path, str]] = []
    consumed = 0
    for ids, images in _batches(files, size, batch_size, skipped):
        acts = network.activations(images, list(layers))
        for name, tracker in trackers.items():
            tracker.update(acts[name], ids)
        if progress is not None:
            done = ids[-1] + 1
            progress(done - consumed)
            consumed = done
    if progress is not None and len(files) > consumed:
        progress(len(files) - consumed)
    if len(skipped) == len(files):
        raise InvalidInputError(f"none of the {len(files)} files is a readable image (first: {skipped[0][1]})")
    return TrackingResult(
        topk={name: t.result() for name, t in trackers.items()}, files=list(files), skipped=skipped, size=size
    )
