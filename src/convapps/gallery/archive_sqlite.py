"""The archive index in one SQLite file (the embedded default; see :mod:`convapps.gallery.archive_base`).

Tables: ``meta`` (format, version, embedding space), ``photos`` (path, hash, size, mtime, faces, error),
``faces`` (photo, box, score, float32 encoding blob, group) and ``groups`` (id, unique name or NULL).
A batch of photos is one transaction: a photo's old faces are deleted, its new faces inserted, then its
record written, so a killed run leaves no partial photo and no duplicate.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import ConflictError, GalleryUnreadableError, NotFoundError
from convapps.gallery.archive_base import (
    ArchiveIndex,
    FaceRecord,
    GroupRecord,
    NewFaces,
    PhotoRecord,
    check_archive_meta,
    group_representatives,
)
from convapps.gallery.names import name_skeleton
from convapps.gallery.sqlite_file import SqliteFile

FORMAT = "convapps-archive"
VERSION = "1"
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE photos (
    path TEXT PRIMARY KEY, hash TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    n_faces INTEGER NOT NULL, error TEXT);
CREATE TABLE groups (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, skeleton TEXT UNIQUE);
CREATE TABLE faces (
    id INTEGER PRIMARY KEY AUTOINCREMENT, photo TEXT NOT NULL,
    x0 INTEGER NOT NULL, y0 INTEGER NOT NULL, x1 INTEGER NOT NULL, y1 INTEGER NOT NULL,
    score REAL NOT NULL, vector BLOB NOT NULL, group_id INTEGER REFERENCES groups(id) ON DELETE SET NULL);
CREATE INDEX faces_photo ON faces(photo);
CREATE INDEX faces_group ON faces(group_id);
"""
_DROP_EMPTY_GROUPS = (
    "DELETE FROM groups WHERE name IS NULL "
    "AND id NOT IN (SELECT DISTINCT group_id FROM faces WHERE group_id IS NOT NULL)"
)
_FACE_SQL = "SELECT id, photo, x0, y0, x1, y1, score, group_id, vector FROM faces"


class SqliteArchiveIndex(ArchiveIndex):
    """Archive index in the SQLite file ``path`` (created 0600 when missing) for encodings of ``space``."""

    def __init__(self, path: Path, *, space: EmbeddingSpace, lock_timeout_s: float = 30.0) -> None:
        super().__init__(space)
        self.path = Path(path)
        self.url = str(self.path)
        self._file = SqliteFile(self.path, what=f"archive index {self.url}", lock_timeout_s=lock_timeout_s)
        with self._file.reading("open") as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            with self._file.transaction("initialise") as db:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("format", FORMAT), ("version", VERSION), ("space", space.to_json())],
                )
        elif "meta" not in tables:
            raise GalleryUnreadableError(f"{self.url} is a SQLite file but not a convapps archive index")
        with self._file.reading("open") as db:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != FORMAT:
            raise GalleryUnreadableError(f"{self.url} is a SQLite file but not a convapps archive index")
        check_archive_meta(self.url, meta, space, version=VERSION)

    # ---- photos -------------------------------------------------------------------------------
    def photos(self) -> dict[str, PhotoRecord]:
        with self._file.reading() as db:
            rows = db.execute("SELECT path, hash, size, mtime_ns, n_faces, error FROM photos").fetchall()
        return {r[0]: PhotoRecord(*r) for r in rows}

    def _put_photos(self, items: Sequence[tuple[PhotoRecord, NewFaces]]) -> None:
        with self._file.transaction("write to") as db:
            for record, faces in items:
                db.execute("DELETE FROM faces WHERE photo = ?", (record.path,))
                db.executemany(
                    "INSERT INTO faces (photo, x0, y0, x1, y1, score, vector) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (record.path, *box, score, vector.astype("<f4").tobytes())
                        for box, score, vector in zip(faces.boxes, faces.scores, faces.encodings, strict=True)
                    ],
                )
                db.execute(
                    "INSERT OR REPLACE INTO photos VALUES (?, ?, ?, ?, ?, ?)",
                    (record.path, record.content_hash, record.size, record.mtime_ns, record.n_faces, record.error),
                )

    def drop_photos(self, paths: Iterable[str]) -> int:
        dropped = 0
        with self._file.transaction("drop photos from") as db:
            for path in paths:
                db.execute("DELETE FROM faces WHERE photo = ?", (path,))
                dropped += db.execute("DELETE FROM photos WHERE path = ?", (path,)).rowcount
            db.execute(_DROP_EMPTY_GROUPS)
        return dropped

    # ---- faces and groups ---------------------------------------------------------------------
    def face_encodings(self, *, unnamed_only: bool = False) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        sql = "SELECT f.id, f.vector FROM faces f"
        if unnamed_only:
            sql += " LEFT JOIN groups g ON g.id = f.group_id WHERE g.name IS NULL"
        with self._file.reading() as db:
            rows = db.execute(sql + " ORDER BY f.id").fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), self.space.dim)
        return ids, vectors.astype(np.float32)

    def _face(self, row: tuple[Any, ...], with_encoding: bool) -> FaceRecord:
        fid, photo, x0, y0, x1, y1, score, group, vector = row
        embedding = np.frombuffer(vector, dtype="<f4").astype(np.float32) if with_encoding else None
        group_id = None if group is None else int(group)
        return FaceRecord(int(fid), str(photo), (int(x0), int(y0), int(x1), int(y1)), float(score), group_id, embedding)

    def faces(
        self, *, group: int | None = None, photo: str | None = None, with_encodings: bool = False
    ) -> list[FaceRecord]:
        where: list[str] = []
        args: list[object] = []
        if group is not None:
            where.append("group_id = ?")
            args.append(group)
        if photo is not None:
            where.append("photo = ?")
            args.append(photo)
        sql = _FACE_SQL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY photo, x0, y0, id"
        with self._file.reading() as db:
            rows = db.execute(sql, args).fetchall()
        return [self._face(r, with_encodings) for r in rows]

    def assign_groups(self, face_ids: Sequence[int], labels: Sequence[int]) -> int:
        if len(face_ids) != len(labels):
            raise ConflictError(f"{len(face_ids)} faces but {len(labels)} labels")
        with self._file.transaction("group faces in") as db:
            named = {
                r[0]
                for r in db.execute(
                    "SELECT f.id FROM faces f JOIN groups g ON g.id = f.group_id WHERE g.name IS NOT NULL"
                )
            }
            if named & set(map(int, face_ids)):
                raise ConflictError("some faces belong to a named group; cluster only the unnamed faces")
            new: dict[int, int] = {}
            for label in dict.fromkeys(int(v) for v in labels):
                new[label] = int(db.execute("INSERT INTO groups (name) VALUES (NULL)").lastrowid or 0)
            db.executemany(
                "UPDATE faces SET group_id = ? WHERE id = ?",
                [(new[int(label)], int(fid)) for fid, label in zip(face_ids, labels, strict=True)],
            )
            db.execute(_DROP_EMPTY_GROUPS)
        return len(new)

    def groups(self) -> list[GroupRecord]:
        with self._file.reading() as db:
            names = dict(db.execute("SELECT id, name FROM groups").fetchall())
            rows = db.execute(_FACE_SQL + " WHERE group_id IS NOT NULL ORDER BY photo, x0, y0, id").fetchall()
        return _group_records(rows, names, self.space.dim)

    def group(self, group: int) -> GroupRecord | None:
        with self._file.reading() as db:
            found = db.execute("SELECT id, name FROM groups WHERE id = ?", (group,)).fetchone()
            if found is None:
                return None
            rows = db.execute(_FACE_SQL + " WHERE group_id = ? ORDER BY photo, x0, y0, id", (group,)).fetchall()
        if not rows:
            return GroupRecord(int(found[0]), 0, found[1], None)
        return _group_records(rows, {found[0]: found[1]}, self.space.dim)[0]

    def _existing_group(self, db: sqlite3.Connection, group: int) -> None:
        if db.execute("SELECT 1 FROM groups WHERE id = ?", (group,)).fetchone() is None:
            raise NotFoundError(f"no group {group} in archive index {self.url}")

    def name_group(self, group: int, name: str) -> None:
        clean = self.clean_name(name)
        with self._file.transaction("name a group in") as db:
            self._existing_group(db, group)
            other = db.execute("SELECT id FROM groups WHERE skeleton = ? AND id != ?", (name_skeleton(clean), group))
            if other.fetchone() is not None:
                raise ConflictError(f"another group is already named {clean!r}; merge the two groups instead")
            db.execute("UPDATE groups SET name = ?, skeleton = ? WHERE id = ?", (clean, name_skeleton(clean), group))

    def merge_groups(self, into: int, others: Sequence[int]) -> int:
        moved = 0
        with self._file.transaction("merge groups in") as db:
            for group in (into, *others):
                self._existing_group(db, group)
            for group in others:
                if group == into:
                    continue
                moved += db.execute("UPDATE faces SET group_id = ? WHERE group_id = ?", (into, group)).rowcount
                db.execute("DELETE FROM groups WHERE id = ?", (group,))
        return moved

    def split_faces(self, face_ids: Sequence[int]) -> int:
        with self._file.transaction("split a group in") as db:
            ids = [int(f) for f in face_ids]
            found = db.execute(f"SELECT COUNT(*) FROM faces WHERE id IN ({','.join('?' * len(ids))})", ids)
            if not ids or found.fetchone()[0] != len(set(ids)):
                raise NotFoundError(f"some of faces {ids} are not in archive index {self.url}")
            group = int(db.execute("INSERT INTO groups (name) VALUES (NULL)").lastrowid or 0)
            db.executemany("UPDATE faces SET group_id = ? WHERE id = ?", [(group, f) for f in ids])
            db.execute(_DROP_EMPTY_GROUPS)
        return group

    def group_of_name(self, name: str) -> int | None:
        with self._file.reading() as db:
            row = db.execute("SELECT id FROM groups WHERE skeleton = ?", (name_skeleton(self.clean_name(name)),))
            found = row.fetchone()
        return None if found is None else int(found[0])

    def close(self) -> None:
        self._file.close()


def _group_records(rows: list[tuple[Any, ...]], names: dict[int, str | None], dim: int) -> list[GroupRecord]:
    """Groups (largest first) from face rows of ``_FACE_SQL`` in photo order, each with its representative."""
    if not rows:
        return []
    x = np.frombuffer(b"".join(r[8] for r in rows), dtype="<f4").reshape(len(rows), dim).astype(np.float32)
    ids, sizes, best = group_representatives(np.array([int(r[7]) for r in rows], dtype=np.int64), x)
    out = []
    for gid, size, b in zip(ids, sizes, best, strict=True):
        fid, photo, x0, y0, x1, y1, score, group, _ = rows[b]
        face = FaceRecord(int(fid), str(photo), (int(x0), int(y0), int(x1), int(y1)), float(score), int(group), x[b])
        out.append(GroupRecord(int(gid), int(size), names.get(int(gid)), face))
    return sorted(out, key=lambda g: (-g.size, g.id))
