"""SQLite gallery: the embedded default, one file, WAL journal, one transaction per write.

Tables: ``meta`` (format, version, embedding space), ``identities`` (stable integer id, unique name,
JSON metadata) and ``encodings`` (float32 vector blobs, ON DELETE CASCADE). The file is created with
owner-only permissions (0600; SQLite gives its -wal/-shm files the same). Search runs in memory on
an :class:`~convapps.gallery.exact.EncodingMatrix` (exact) or an :class:`~convapps.gallery.ann.HnswIndex`
(``mode="ann"``), loaded on first use and reloaded when another process changed the file.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import (
    ConflictError,
    EmbeddingSpaceMismatchError,
    GalleryUnreadableError,
    NotFoundError,
)
from convapps.gallery.ann import AnnIndex, HnswParams, IvfParams, build_ann
from convapps.gallery.base import Gallery, Identity, Match, SearchMode
from convapps.gallery.exact import EncodingMatrix
from convapps.gallery.sqlite_file import SqliteFile, sqlite_errors

FORMAT = "convapps-gallery"
VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS identities (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
    metadata TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS encodings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS encodings_identity ON encodings(identity_id);
"""
_IDENTITY_SQL = (
    "SELECT i.id, i.name, i.metadata, i.created_at, "
    "(SELECT COUNT(*) FROM encodings e WHERE e.identity_id = i.id) FROM identities i"
)


class SqliteGallery(Gallery):
    """Gallery in one SQLite file. ``lock_timeout_s``: how long a write waits for another writer;
    ``ann``: the approximate index used when ``mode="ann"`` (HNSW by default)."""

    def __init__(
        self,
        path: Path,
        *,
        space: EmbeddingSpace | None = None,
        mode: SearchMode = "exact",
        lock_timeout_s: float = 5.0,
        ann: HnswParams | IvfParams | None = None,
    ) -> None:
        super().__init__(space=space)
        self.path = Path(path)
        self.url = str(self.path)
        self.mode = mode
        self._ann_params = ann or HnswParams()
        self._space_cache: EmbeddingSpace | None = None
        self._matrix: EncodingMatrix | None = None
        self._ann: AnnIndex | None = None
        self._data_version = -1
        self._file = SqliteFile(self.path, what=f"gallery {self.url}", lock_timeout_s=lock_timeout_s)
        self._lock = self._file.lock
        self._db = self._file.db
        with self._errors("open"):
            self._init_schema()

    # ---- plumbing -----------------------------------------------------------------------------
    def _errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        return sqlite_errors(f"gallery {self.url}", action)

    def _transaction(self, action: str) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._file.transaction(action)

    def _init_schema(self) -> None:
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise GalleryUnreadableError(f"{self.url} is a SQLite file but not a convapps gallery")
        if not tables:
            with self._transaction("initialise"):
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)
                self._db.executemany(
                    "INSERT OR IGNORE INTO meta VALUES (?, ?)", [("format", FORMAT), ("version", VERSION)]
                )
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != FORMAT:
            raise GalleryUnreadableError(f"{self.url} is a SQLite file but not a convapps gallery")
        if meta.get("version") != VERSION:
            raise GalleryUnreadableError(
                f"gallery {self.url} has format version {meta.get('version')}; this convapps reads {VERSION}"
            )

    def _stored_space(self) -> EmbeddingSpace | None:
        if self._space_cache is None:
            with self._lock, self._errors("read"):
                row = self._db.execute("SELECT value FROM meta WHERE key = 'space'").fetchone()
            self._space_cache = EmbeddingSpace.from_json(row[0]) if row else None
        return self._space_cache

    def _identity(self, row: tuple[int, str, str, str, int]) -> Identity:
        return Identity(id=row[0], name=row[1], metadata=json.loads(row[2]), created_at=row[3], n_encodings=row[4])

    def _row(self, name: str) -> tuple[int, str, str, str, int]:
        with self._lock, self._errors("read"):
            row = self._db.execute(_IDENTITY_SQL + " WHERE i.name = ?", (name,)).fetchone()
            if row is None:
                names = [r[0] for r in self._db.execute("SELECT name FROM identities")]
                close = difflib.get_close_matches(name, names, n=3)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                raise NotFoundError(f"no person named {name!r} in gallery {self.url}{hint}")
        return row  # type: ignore[no-any-return]

    # ---- writes -------------------------------------------------------------------------------
    def _insert_people(
        self,
        rows: Sequence[tuple[str, NDArray[np.float32], dict[str, str | int | float | bool | None]]],
        space: EmbeddingSpace,
    ) -> list[Identity]:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        people: list[Identity] = []
        with self._transaction("enroll into") as db:
            stored = db.execute("SELECT value FROM meta WHERE key = 'space'").fetchone()
            if stored is None:
                db.execute("INSERT INTO meta VALUES ('space', ?)", (space.to_json(),))
            elif EmbeddingSpace.from_json(stored[0]) != space:  # another process enrolled first
                raise EmbeddingSpaceMismatchError(
                    f"gallery {self.url} holds encodings of {EmbeddingSpace.from_json(stored[0]).describe()}"
                )
            for name, vectors, metadata in rows:
                if db.execute("SELECT 1 FROM identities WHERE name = ?", (name,)).fetchone():
                    raise ConflictError(
                        f"{name!r} is already enrolled in gallery {self.url}; use another name or remove it first"
                    )
                cur = db.execute(
                    "INSERT INTO identities (name, metadata, created_at) VALUES (?, ?, ?)",
                    (name, json.dumps(metadata), now),
                )
                pid = int(cur.lastrowid or 0)
                db.executemany(
                    "INSERT INTO encodings (identity_id, vector) VALUES (?, ?)",
                    [(pid, v.astype("<f4").tobytes()) for v in vectors],
                )
                people.append(Identity(pid, name, len(vectors), metadata, now))
        self._space_cache = space
        for person, (_, vectors, _) in zip(people, rows, strict=True):
            self._cache_add(person.id, vectors)
        return people

    def _append(self, name: str, encodings: NDArray[np.float32], space: EmbeddingSpace) -> Identity:
        pid = self._row(name)[0]
        with self._transaction("add encodings to") as db:
            db.executemany(
                "INSERT INTO encodings (identity_id, vector) VALUES (?, ?)",
                [(pid, v.astype("<f4").tobytes()) for v in encodings],
            )
        self._cache_add(pid, encodings)
        return self.get(name)

    def remove(self, name: str) -> Identity:
        person = self.get(name)
        with self._transaction("remove from") as db:
            db.execute("DELETE FROM identities WHERE id = ?", (person.id,))
        if self._matrix is not None:
            keep = self._matrix.owners != person.id
            self._matrix = EncodingMatrix(self._matrix.vectors[keep], self._matrix.owners[keep])
        if self._ann is not None:
            self._ann.remove(person.id)
        return person

    def rename(self, old: str, new: str) -> Identity:
        person = self.get(old)
        new = self.check_new_name(new, renaming=person.name)
        with self._transaction("rename in") as db:
            if db.execute("SELECT 1 FROM identities WHERE name = ?", (new,)).fetchone():
                raise ConflictError(f"{new!r} is already enrolled in gallery {self.url}")
            db.execute("UPDATE identities SET name = ? WHERE id = ?", (new, person.id))
        return self.get(new)

    # ---- reads --------------------------------------------------------------------------------
    def get(self, name: str) -> Identity:
        return self._identity(self._row(name))

    def identities(self) -> list[Identity]:
        with self._lock, self._errors("read"):
            rows = self._db.execute(_IDENTITY_SQL + " ORDER BY i.id").fetchall()
        return [self._identity(r) for r in rows]

    def names(self) -> list[str]:
        with self._lock, self._errors("read"):
            return [r[0] for r in self._db.execute("SELECT name FROM identities")]

    def encodings_of(self, name: str) -> NDArray[np.float32]:
        pid = self._row(name)[0]
        with self._lock, self._errors("read"):
            blobs = [
                r[0] for r in self._db.execute("SELECT vector FROM encodings WHERE identity_id = ? ORDER BY id", (pid,))
            ]
        return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1).astype(np.float32)

    def encodings_by_id(self, people: Sequence[Identity]) -> dict[int, NDArray[np.float32]]:
        """From the exact search's in-memory matrix when it is loaded and current (no query per person)."""
        if self.mode != "exact":
            return super().encodings_by_id(people)
        self.build_index()
        matrix = self._matrix
        if matrix is None:
            return super().encodings_by_id(people)
        ends = np.r_[matrix.starts[1:], len(matrix.owners)]
        where = np.searchsorted(matrix.identity_ids, [person.id for person in people])
        out: dict[int, NDArray[np.float32]] = {}
        for person, i in zip(people, where, strict=True):
            if i >= len(matrix.identity_ids) or matrix.identity_ids[i] != person.id:
                out[person.id] = self.encodings_of(person.name)  # not in the matrix: ask the database
            else:
                out[person.id] = matrix.vectors[matrix.starts[i] : ends[i]]
        return out

    def __len__(self) -> int:
        with self._lock, self._errors("read"):
            return int(self._db.execute("SELECT COUNT(*) FROM identities").fetchone()[0])

    # ---- search -------------------------------------------------------------------------------
    def _load_all(self) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        with self._lock, self._errors("read"):
            rows = self._db.execute("SELECT identity_id, vector FROM encodings ORDER BY id").fetchall()
        dim = self._check_space().dim
        owners = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), dim)
        return vectors.astype(np.float32), owners

    def _refresh(self) -> None:
        """Drop the in-memory search structures if another connection committed since they were built."""
        with self._lock, self._errors("read"):
            version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        if version != self._data_version:
            self._matrix, self._ann, self._data_version = None, None, version

    def _cache_add(self, pid: int, vectors: NDArray[np.float32]) -> None:
        owners = np.full(len(vectors), pid, dtype=np.int64)
        if self._matrix is not None:
            self._matrix = EncodingMatrix(
                np.concatenate([self._matrix.vectors, vectors]), np.concatenate([self._matrix.owners, owners])
            )
        if self._ann is not None:
            self._ann.add(owners, vectors)

    def build_index(self) -> None:
        """Load the search structure now (otherwise the first search does it)."""
        self._refresh()
        if self.mode == "ann" and self._ann is None:
            vectors, owners = self._load_all()
            self._ann = build_ann(self._ann_params, owners, vectors, vectors.shape[1])
        elif self.mode == "exact" and self._matrix is None:
            self._matrix = EncodingMatrix(*self._load_all())

    def _search(self, queries: NDArray[np.float32], k: int) -> list[list[Match]]:
        self.build_index()
        engine = self._ann if self.mode == "ann" else self._matrix
        assert engine is not None
        ids, dists = engine.nearest(queries, k)
        wanted = sorted({int(i) for i in ids.ravel() if i >= 0})
        people: dict[int, Identity] = {}
        with self._lock, self._errors("read"):
            for lo in range(0, len(wanted), 500):
                chunk = wanted[lo : lo + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._db.execute(_IDENTITY_SQL + f" WHERE i.id IN ({marks})", chunk):
                    people[row[0]] = self._identity(row)
        return [
            [Match(people[int(i)], float(d)) for i, d in zip(r_ids, r_d, strict=True) if int(i) in people]
            for r_ids, r_d in zip(ids, dists, strict=True)
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()
