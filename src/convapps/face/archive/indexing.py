"""Index a photo archive: every face of every photo, detected, encoded and stored with its photo.

``index_archive(root, index)`` walks ``root`` recursively, compares what it finds with the index
(path, size, modification time) and encodes only what is new or changed, on the batch engine
(:mod:`convapps.engine`: Ray Data by default, local processes on request); photos that left the folder
are dropped from the index. Results are written in small transactions as they arrive, each photo whole
(its faces, then its record), so an interrupted run, even one killed outright, resumes where it stopped
without duplicate faces. A photo that cannot be read (not an image, truncated, too many pixels) is
recorded with the reason and listed, never fatal; it is retried when the file changes.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convapps.engine.runners import EngineConfig, Row, Worker, map_items
from convapps.errors import ConvappsError, NotFoundError
from convapps.face.batch import IMAGE_SUFFIXES
from convapps.face.pipeline import FaceConfig, FacePipeline
from convapps.gallery.archive_base import ArchiveIndex, NewFaces, PhotoRecord

ARCHIVE_MIN_FACE_PX = 28
"""Smallest face an archive looks for: dlib's ResNet still verifies LFW pairs at 0.987 with 30 px faces and
falls to 0.94 at 20 px (``benchmarks/bench_face_small.py``, part 2)."""
ARCHIVE_FACE_CONFIG = FaceConfig(min_face_px=ARCHIVE_MIN_FACE_PX)
"""How faces are found and encoded in archive photos: the default pipeline, every face, every face down to
``ARCHIVE_MIN_FACE_PX`` even beside larger ones (group photos), within 16 MP scanned per pass."""


@dataclass(frozen=True)
class IndexReport:
    """What one indexing run did."""

    found: int
    indexed: int
    unchanged: int
    dropped: int
    faces: int
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """``1,204 photos: 180 indexed (412 faces), 1,020 unchanged, 4 dropped, 2 unreadable, 31.2 s``."""
        return (
            f"{self.found:,} photos: {self.indexed:,} indexed ({self.faces:,} faces), {self.unchanged:,} unchanged, "
            f"{self.dropped:,} dropped, {len(self.unreadable):,} unreadable, {self.seconds:.1f} s"
        )


def archive_photos(root: str | Path) -> list[Path]:
    """Image files under ``root`` (recursively, by suffix, sorted), as absolute paths."""
    folder = Path(root).expanduser().resolve()
    if not folder.is_dir():
        raise NotFoundError(f"{root}: no such folder")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def photo_worker(config: FaceConfig, model: str | None) -> Worker:
    """The per-worker function: path -> row of the photo's record and faces (models built once here)."""
    from convapps.face.encoders import load_encoder
    from convapps.io.images import load_image

    pipe = FacePipeline(config, load_encoder(model))

    def run(path: str) -> Row:
        row: Row = {"path": path, "hash": "", "size": 0, "mtime_ns": 0, "error": None}
        row |= {"boxes": [], "scores": [], "encodings": b""}
        try:
            stat = Path(path).stat()
            data = Path(path).read_bytes()
        except OSError as exc:
            return row | {"error": f"cannot read: {exc.strerror}"}
        row |= {"hash": hashlib.sha256(data).hexdigest(), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        try:
            rgb = load_image(data, name=Path(path).name)
            faces = pipe.detect(rgb)
            if faces:
                chips = np.stack([pipe.align(rgb, f) for f in faces])
                row["encodings"] = pipe.encode_chips(chips).astype("<f4").tobytes()
        except ConvappsError as exc:
            return row | {"error": str(exc)}
        row["boxes"] = [v for f in faces for v in f.box]
        row["scores"] = [f.score for f in faces]
        return row

    return run


def row_to_photo(row: Row, dim: int) -> tuple[PhotoRecord, NewFaces]:
    """A worker's row as the index's photo record and faces."""
    boxes = np.asarray(row["boxes"], dtype=np.int64).reshape(-1, 4)
    encodings = np.frombuffer(row["encodings"], dtype="<f4").reshape(-1, dim).astype(np.float32)
    record = PhotoRecord(str(row["path"]), str(row["hash"]), int(row["size"]), int(row["mtime_ns"]), error=row["error"])
    return record, NewFaces([tuple(int(v) for v in b) for b in boxes], list(row["scores"]), encodings)  # type: ignore[misc]


def plan(photos: Sequence[Path], known: dict[str, PhotoRecord], root: Path) -> tuple[list[str], int, list[str]]:
    """``(to index, unchanged count, to drop)``: new photos and photos whose size or modification time
    changed are indexed; indexed photos under ``root`` that are gone are dropped."""
    todo: list[str] = []
    present = set()
    for path in photos:
        key = str(path)
        present.add(key)
        record = known.get(key)
        stat = path.stat()
        if record is None or record.size != stat.st_size or record.mtime_ns != stat.st_mtime_ns:
            todo.append(key)
    prefix = str(root) + "/"
    gone = [k for k in known if k.startswith(prefix) and k not in present]
    return todo, len(photos) - len(todo), gone


def index_archive(
    root: str | Path,
    index: ArchiveIndex,
    *,
    config: FaceConfig = ARCHIVE_FACE_CONFIG,
    model: str | None = None,
    engine: EngineConfig | None = None,
    progress: bool = True,
    write_every: int = 8,
    on_photo: Callable[[PhotoRecord], None] | None = None,
) -> IndexReport:
    """Bring ``index`` up to date with the photos under ``root`` (see module doc).

    ``write_every`` photos are written per transaction; ``on_photo`` is called after each photo is
    stored (progress reporting in services)."""
    from tqdm import tqdm

    started = time.perf_counter()
    folder = Path(root).expanduser().resolve()
    photos = archive_photos(folder)
    todo, unchanged, gone = plan(photos, index.photos(), folder)
    dropped = index.drop_photos(gone) if gone else 0
    unreadable: list[tuple[str, str]] = []
    n_faces = 0
    buffer: list[tuple[PhotoRecord, NewFaces]] = []

    def flush() -> None:
        index.put_photos(buffer)
        for record, _ in buffer:
            if on_photo is not None:
                on_photo(record)
        buffer.clear()

    factory = functools.partial(photo_worker, config, model)
    bar = tqdm(total=len(todo), unit="photo", file=sys.stderr, disable=not progress, desc="indexing")
    try:
        for row in map_items(todo, factory, engine):
            record, faces = row_to_photo(row, index.space.dim)
            if record.error:
                unreadable.append((record.path, record.error))
            n_faces += len(faces.boxes)
            buffer.append((record, faces))
            if len(buffer) >= write_every:
                flush()
            bar.update()
        flush()
    finally:
        bar.close()
    return IndexReport(
        found=len(photos),
        indexed=len(todo),
        unchanged=unchanged,
        dropped=dropped,
        faces=n_faces,
        unreadable=unreadable,
        seconds=time.perf_counter() - started,
    )
