"""Batch encoding of many images: worker processes (one per core), images streamed from disk, a progress
bar, results written as ``.npz`` (names, boxes, embeddings) or JSON.

Each worker builds its own :class:`FacePipeline` once (models load once per process) and reads one image
at a time, so memory stays flat however many images there are.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.errors import ConvappsError, InvalidInputError, NotFoundError
from convapps.face.pipeline import Box, FaceConfig, FacePipeline

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif"})


@dataclass(frozen=True)
class ImageFaces:
    """Faces of one image: ``boxes`` (F, 4) and ``embeddings`` (F, D), largest first; ``error`` if unreadable."""

    name: str
    boxes: list[Box]
    embeddings: NDArray[np.float32]
    error: str | None = None
    fallback: bool = False
    """True when no face was found and the whole image was encoded (``largest=True`` with fallback)."""


def collect_images(inputs: Sequence[str | Path]) -> list[Path]:
    """Image files named or found (recursively, by suffix, sorted) in the given files and folders."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise NotFoundError(f"{path}: no such file or folder")
    return found


_WORKER: dict[str, object] = {}


def _init_worker(config: FaceConfig, model: str | None, largest: bool) -> None:
    import torch

    from convapps.face.encoders import load_encoder

    torch.set_num_threads(1)  # one worker process per core
    _WORKER["pipe"] = FacePipeline(config, load_encoder(model))
    _WORKER["largest"] = largest


def _encode_path(path: Path) -> ImageFaces:
    from convapps.io.images import load_image

    pipe = _WORKER["pipe"]
    assert isinstance(pipe, FacePipeline)
    try:
        if _WORKER["largest"]:
            one = pipe.encode_one(load_image(path), 0, name=str(path))
            return ImageFaces(str(path), [one.box], one.embedding[None], fallback=not one.detected)
        encodings = pipe.encode_faces(load_image(path), name=str(path))
    except ConvappsError as err:
        return ImageFaces(str(path), [], np.zeros((0, pipe.encoder.space.dim), np.float32), str(err))
    embeddings = np.stack([e.embedding for e in encodings]) if encodings else np.zeros((0, pipe.encoder.space.dim))
    return ImageFaces(str(path), [e.box for e in encodings], embeddings.astype(np.float32))


def encode_images(
    paths: Sequence[Path],
    *,
    config: FaceConfig | None = None,
    model: str | None = None,
    workers: int | None = None,
    progress: bool = True,
    largest: bool = False,
) -> Iterator[ImageFaces]:
    """Encode every face of every image, in input order, with ``workers`` processes (default: all cores).

    With ``largest=True`` only the largest face is encoded (with ``config.fallback_whole_image`` an
    image without a face gives the whole image's encoding, flagged ``fallback``; otherwise an error).
    """
    from tqdm import tqdm

    cfg = config or FaceConfig()
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if n_workers < 1:
        raise InvalidInputError(f"workers must be >= 1, got {n_workers}")
    bar = tqdm(total=len(paths), unit="img", file=sys.stderr, disable=not progress)
    try:
        if n_workers == 1 or len(paths) <= 1:
            import torch

            threads = torch.get_num_threads()
            _init_worker(cfg, model, largest)
            torch.set_num_threads(threads)
            for path in paths:
                yield _encode_path(path)
                bar.update()
            return
        # never plain fork: a child forked after this process used torch's OpenMP pool hangs in its first
        # parallel region (GNU libgomp); forkserver children start from a clean process
        ctx = mp.get_context("forkserver") if sys.platform.startswith("linux") else mp.get_context("spawn")
        with ProcessPoolExecutor(
            n_workers, mp_context=ctx, initializer=_init_worker, initargs=(cfg, model, largest)
        ) as ex:
            for result in ex.map(_encode_path, paths, chunksize=4):
                yield result
                bar.update()
    finally:
        bar.close()


def write_results(results: Sequence[ImageFaces], path: str | Path, *, dim: int) -> Path:
    """Write ``.npz`` (``names`` (F,), ``boxes`` (F, 4), ``embeddings`` (F, D), ``face_index`` (F,)) or ``.json``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = [(r.name, i, b, e) for r in results for i, (b, e) in enumerate(zip(r.boxes, r.embeddings, strict=True))]
    if target.suffix.lower() == ".json":
        payload = {
            "faces": [{"name": n, "face_index": i, "box": list(b), "embedding": e.tolist()} for n, i, b, e in rows],
            "errors": {r.name: r.error for r in results if r.error},
            "no_face": [r.name for r in results if not r.error and not r.boxes],
        }
        target.write_text(json.dumps(payload))
        return target
    if target.suffix.lower() != ".npz":
        raise InvalidInputError(f"{target}: output must end in .npz or .json")
    np.savez(
        target,
        names=np.array([n for n, *_ in rows], dtype=str),
        face_index=np.array([i for _, i, *_ in rows], dtype=np.int32),
        boxes=np.array([b for *_, b, _ in rows], dtype=np.int32).reshape(-1, 4),
        embeddings=np.array([e for *_, e in rows], dtype=np.float32).reshape(-1, dim),
    )
    return target
