"""The archive index in Milvus: a server or cluster, or a Milvus Lite folder (see :mod:`convapps.gallery.archive_base`).

Four collections, named apart from the gallery's so that both can share one database:

* ``convapps_archive_meta``: key -> value (format, version, embedding space, next face id, next group id);
* ``convapps_archive_photos``: path (primary key), hash, size, mtime_ns, n_faces, error ("" = none);
* ``convapps_archive_faces``: id, photo, box x0 y0 x1 y1, score, group_id (-1 = none), encoding
  (FLOAT_VECTOR of the space's dimension, L2), with scalar indexes on photo and group_id;
* ``convapps_archive_groups``: id, name and name skeleton ("" while unnamed).

Milvus needs a vector field in every collection: meta, photos and groups carry an unused 2-d one. Every
collection is created with Strong consistency, so a read sees every write made before it.

Milvus has no transactions, so each write has ONE commit point. Storing photos deletes their records
first (a photo indexed before becomes absent), then every face of those paths (also faces left over by a
killed run), inserts the new faces, and upserts the records last: the commit. The photo records are the
truth of what is indexed: a face whose photo has no record is invisible to every read until that photo
is indexed again, which deletes it first. Dropping photos deletes their records, then their faces.
Group changes (clustering, merge, split) rewrite whole face rows (upsert) in batches; one killed midway
leaves every face in its old group or its new one, never lost. Face and group ids come from counters in
the meta collection, so they are never reused, also across processes writing one after the other.
Reads page through ``query_iterator`` (a Milvus query returns at most 16,384 rows); writes go in batches
of at most 2,000 rows and 4 MiB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import (
    ConflictError,
    GalleryUnreadableError,
    InvalidInputError,
    NotFoundError,
)
from convapps.gallery.archive_base import (
    ArchiveIndex,
    FaceRecord,
    GroupRecord,
    NewFaces,
    PhotoRecord,
    check_archive_meta,
    group_representatives,
)
from convapps.gallery.milvus_connection import MilvusConnection, quote
from convapps.gallery.names import name_skeleton
from convapps.gallery.url import GalleryUrl

META, PHOTOS, FACES, GROUPS = (
    "convapps_archive_meta",
    "convapps_archive_photos",
    "convapps_archive_faces",
    "convapps_archive_groups",
)
FORMAT, VERSION = "convapps-archive", "1"
NO_GROUP = -1
PATH_BYTES = 4096
"""The longest photo path stored (bytes of UTF-8), Linux's PATH_MAX."""
ERROR_CHARS = 2000
"""A photo's error message is cut to this many characters."""
BATCH_ROWS, BATCH_BYTES = 2000, 4 << 20
"""The most rows, and bytes, written in one request (Milvus refuses requests over a few MB)."""
FILTER_VALUES, FILTER_BYTES = 500, 64 << 10
"""The most values, and bytes, in one ``field in [...]`` filter."""
PAGE = 4096
"""Rows per page when reading (at most 16,384 in Milvus)."""
UNUSED = [0.0, 0.0]
_PHOTO_FIELDS = ["path", "hash", "size", "mtime_ns", "n_faces", "error"]
_FACE_FIELDS = ["id", "photo", "x0", "y0", "x1", "y1", "score", "group_id"]
_ALL_FACE_FIELDS = [*_FACE_FIELDS, "vector"]

Row = dict[str, Any]


class MilvusArchiveIndex(ArchiveIndex):
    """Archive index in the Milvus at ``location`` for encodings of ``space`` (see the module docstring).

    ``create=False``: GalleryUnreadableError when the location holds no archive index."""

    def __init__(
        self, location: GalleryUrl, *, space: EmbeddingSpace, create: bool = True, connect_timeout_s: float = 10.0
    ) -> None:
        super().__init__(space)
        self._conn = MilvusConnection(location, what="archive index", timeout_s=connect_timeout_s, create=create)
        self._client = self._conn.client
        self.url = self._conn.url
        try:
            with self._conn.errors("open"):
                self._open(create)
        except BaseException:
            self._conn.close()
            raise

    # ---- layout -------------------------------------------------------------------------------
    def _open(self, create: bool) -> None:
        meta = self._read_meta() if self._client.has_collection(META) else {}
        if not meta:
            if not create:
                raise GalleryUnreadableError(f"there is no archive index at {self.url}; index a folder first")
            self._create_collections()
            meta = self._read_meta()
        if meta.get("format") != FORMAT:
            raise GalleryUnreadableError(f"{self.url} holds a '{META}' collection that is not a convapps archive index")
        check_archive_meta(self.url, meta, self.space, version=VERSION)
        for name in (PHOTOS, FACES, GROUPS):
            self._client.load_collection(name)

    def _read_meta(self) -> dict[str, str]:
        self._client.load_collection(META)
        rows = self._client.query(META, filter='key != ""', output_fields=["key", "value"])
        return {str(r["key"]): str(r["value"]) for r in rows}

    def _create_collections(self) -> None:
        """Create the missing collections, the meta collection and its rows last (an initialisation killed
        midway is completed by the next open)."""
        from pymilvus import DataType  # type: ignore[import-untyped,unused-ignore]

        for name, (fields, scalar_indexes) in _layout(self.space.dim).items():
            if self._client.has_collection(name):
                continue
            schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
            for i, (field, kind, params) in enumerate(fields):
                schema.add_field(field, getattr(DataType, kind), is_primary=i == 0, **params)
            index = self._client.prepare_index_params()
            index.add_index(field_name="vector" if name == FACES else "unused", index_type="FLAT", metric_type="L2")
            for field in scalar_indexes:
                index.add_index(field_name=field, index_type="INVERTED")
            self._client.create_collection(name, schema=schema, consistency_level="Strong")
            self._client.create_index(name, index, sync=False)  # empty: nothing to wait for (saves a poll each)
            self._client.load_collection(name)
        values = {
            "format": FORMAT,
            "version": VERSION,
            "space": self.space.to_json(),
            "next_face": "1",
            "next_group": "1",
        }
        self._client.upsert(META, [{"key": k, "value": v, "unused": UNUSED} for k, v in values.items()])

    def _take_ids(self, counter: str, count: int) -> int:
        """Reserve ``count`` fresh ids from the meta counter ``counter``; returns the first."""
        rows = self._client.query(META, filter=f"key == {quote(counter)}", output_fields=["value"])
        first = int(rows[0]["value"])
        self._client.upsert(META, [{"key": counter, "value": str(first + count), "unused": UNUSED}])
        return first

    # ---- reading helpers ----------------------------------------------------------------------
    def _pages(self, collection: str, where: str, fields: list[str]) -> Iterator[list[Row]]:
        """Every matching row, a page at a time (Milvus caps one query's result)."""
        pages = self._client.query_iterator(collection, batch_size=PAGE, filter=where, output_fields=fields)
        try:
            while page := pages.next():
                yield page
        finally:
            pages.close()

    def _rows(self, collection: str, where: str, fields: list[str]) -> list[Row]:
        return [row for page in self._pages(collection, where, fields) for row in page]

    def _rows_in(self, collection: str, field: str, values: Iterable[int | str], fields: list[str]) -> list[Row]:
        """Rows whose ``field`` is one of ``values`` (few values per request)."""
        out: list[Row] = []
        for where in _in_filters(field, values):
            out.extend(self._client.query(collection, filter=where, output_fields=fields))
        return out

    def _indexed_paths(self) -> set[str]:
        return {str(r["path"]) for r in self._rows(PHOTOS, "n_faces >= 0", ["path"])}

    def _recorded(self, paths: Iterable[str]) -> set[str]:
        """Those of ``paths`` that have a photo record (are indexed)."""
        wanted = set(paths)
        if len(wanted) > 20 * FILTER_VALUES:
            return wanted & self._indexed_paths()
        return {str(r["path"]) for r in self._rows_in(PHOTOS, "path", sorted(wanted), ["path"])}

    def _visible(self, rows: list[Row], indexed: set[str] | None = None) -> list[Row]:
        """The face rows whose photo is indexed (faces of a killed write are not)."""
        indexed = self._recorded({str(r["photo"]) for r in rows}) if indexed is None else indexed
        return [r for r in rows if r["photo"] in indexed]

    def _named_groups(self) -> set[int]:
        return {int(r["id"]) for r in self._rows(GROUPS, 'name != ""', ["id"])}

    def _existing_group(self, group: int) -> None:
        if not self._client.query(GROUPS, filter=f"id == {int(group)}", output_fields=["id"]):
            raise NotFoundError(f"no group {group} in archive index {self.url}")

    # ---- writing helpers ----------------------------------------------------------------------
    def _write(self, collection: str, rows: Sequence[Row], *, upsert: bool = False) -> None:
        send: Callable[..., Any] = self._client.upsert if upsert else self._client.insert
        for batch in _batches(rows):
            send(collection, batch)

    def _delete_in(self, collection: str, field: str, values: Iterable[int | str]) -> None:
        for where in _in_filters(field, values):
            self._client.delete(collection, filter=where)

    def _new_groups(self, count: int) -> list[int]:
        first = self._take_ids("next_group", count)
        ids = list(range(first, first + count))
        self._write(GROUPS, [{"id": g, "name": "", "skeleton": "", "unused": UNUSED} for g in ids])
        return ids

    def _move_faces(self, rows: Sequence[Row], group_of: Callable[[Row], int]) -> None:
        """Rewrite whole face rows with their new group (Milvus updates by upsert)."""
        self._write(FACES, [{**_face_row_fields(r), "group_id": group_of(r)} for r in rows], upsert=True)

    def _drop_empty_groups(self) -> None:
        """Forget unnamed groups that no face (visible or not) is in."""
        used = {int(r["group_id"]) for r in self._rows(FACES, f"group_id > {NO_GROUP}", ["group_id"])}
        empty = {int(r["id"]) for r in self._rows(GROUPS, 'name == ""', ["id"])} - used
        self._delete_in(GROUPS, "id", sorted(empty))

    # ---- photos -------------------------------------------------------------------------------
    def photos(self) -> dict[str, PhotoRecord]:
        with self._conn.errors("read"):
            rows = self._rows(PHOTOS, "n_faces >= 0", _PHOTO_FIELDS)
        return {str(r["path"]): _photo(r) for r in rows}

    def _put_photos(self, items: Sequence[tuple[PhotoRecord, NewFaces]]) -> None:
        latest = {record.path: (record, faces) for record, faces in items}  # a path given twice: the last wins
        for path in latest:
            if len(path.encode("utf-8", "surrogateescape")) > PATH_BYTES:
                raise InvalidInputError(f"photo path longer than {PATH_BYTES} bytes: {path[:80]}...")
        with self._conn.errors("write to"):
            self._retract(list(latest))
            self._insert_faces(list(latest.values()))
            self._commit_photos([record for record, _ in latest.values()])

    def _retract(self, paths: Sequence[str]) -> None:
        """First step of a write: the photos become absent (records deleted), then their faces are deleted."""
        self._delete_in(PHOTOS, "path", sorted(self._recorded(paths)))
        self._delete_in(FACES, "photo", paths)

    def _insert_faces(self, items: Sequence[tuple[PhotoRecord, NewFaces]]) -> None:
        """Second step: the new faces, invisible until their photo's record is written."""
        total = sum(len(faces.boxes) for _, faces in items)
        if total == 0:
            return
        face_id = self._take_ids("next_face", total)
        rows: list[Row] = []
        for record, faces in items:
            for box, score, vector in zip(faces.boxes, faces.scores, faces.encodings, strict=True):
                x0, y0, x1, y1 = box
                rows.append(
                    {"id": face_id, "photo": record.path, "x0": x0, "y0": y0, "x1": x1, "y1": y1}
                    | {"score": float(score), "group_id": NO_GROUP, "vector": vector.astype(np.float32).tolist()}
                )
                face_id += 1
        self._write(FACES, rows)

    def _commit_photos(self, records: Sequence[PhotoRecord]) -> None:
        """Last step, the commit point: the photo records."""
        rows = [
            {
                "path": r.path,
                "hash": r.content_hash,
                "size": int(r.size),
                "mtime_ns": int(r.mtime_ns),
                "n_faces": int(r.n_faces),
                "error": (r.error or "")[:ERROR_CHARS],
                "unused": UNUSED,
            }
            for r in records
        ]
        self._write(PHOTOS, rows, upsert=True)

    def drop_photos(self, paths: Iterable[str]) -> int:
        wanted = list(dict.fromkeys(paths))
        with self._conn.errors("drop photos from"):
            indexed = self._recorded(wanted)
            self._delete_in(PHOTOS, "path", sorted(indexed))  # the commit point
            self._delete_in(FACES, "photo", wanted)
            self._drop_empty_groups()
        return len(indexed)

    # ---- faces and groups ---------------------------------------------------------------------
    def face_encodings(self, *, unnamed_only: bool = False) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        ids: list[NDArray[np.int64]] = []
        vectors: list[NDArray[np.float32]] = []
        with self._conn.errors("read"):
            indexed = self._indexed_paths()
            named = self._named_groups() if unnamed_only else set()
            for page in self._pages(FACES, "id >= 0", ["id", "photo", "group_id", "vector"]):
                keep = [r for r in self._visible(page, indexed) if int(r["group_id"]) not in named]
                ids.append(np.array([int(r["id"]) for r in keep], dtype=np.int64))
                vectors.append(_vectors(keep, self.space.dim))
        all_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        all_vectors = np.concatenate(vectors) if vectors else np.zeros((0, self.space.dim), np.float32)
        order = np.argsort(all_ids, kind="stable")
        return all_ids[order], all_vectors[order]

    def faces(
        self, *, group: int | None = None, photo: str | None = None, with_encodings: bool = False
    ) -> list[FaceRecord]:
        if group is not None and group < 0:
            return []
        where = [f"group_id == {int(group)}"] if group is not None else []
        where += [f"photo == {quote(photo)}"] if photo is not None else []
        fields = _ALL_FACE_FIELDS if with_encodings else _FACE_FIELDS
        with self._conn.errors("read"):
            rows = self._rows(FACES, " and ".join(where) or "id >= 0", fields)
            rows = self._visible(rows, None if where else self._indexed_paths())
        faces = [_face(r, with_encodings) for r in rows]
        return sorted(faces, key=lambda f: (f.photo, f.box[0], f.box[1], f.id))

    def _face_rows(self, face_ids: Iterable[int]) -> list[Row]:
        return self._visible(self._rows_in(FACES, "id", sorted({int(f) for f in face_ids}), _ALL_FACE_FIELDS))

    def assign_groups(self, face_ids: Sequence[int], labels: Sequence[int]) -> int:
        if len(face_ids) != len(labels):
            raise ConflictError(f"{len(face_ids)} faces but {len(labels)} labels")
        label_of = {int(f): int(v) for f, v in zip(face_ids, labels, strict=True)}
        with self._conn.errors("group faces in"):
            rows = self._face_rows(label_of)
            named = self._named_groups()
            if any(int(r["group_id"]) in named for r in rows):
                raise ConflictError("some faces belong to a named group; cluster only the unnamed faces")
            distinct = list(dict.fromkeys(int(v) for v in labels))
            new = dict(zip(distinct, self._new_groups(len(distinct)), strict=True))
            self._move_faces(rows, lambda r: new[label_of[int(r["id"])]])
            self._drop_empty_groups()
        return len(new)

    def groups(self) -> list[GroupRecord]:
        with self._conn.errors("read"):
            indexed = self._indexed_paths()
            names = {int(r["id"]): str(r["name"]) for r in self._rows(GROUPS, "id >= 0", ["id", "name"])}
            faces: list[FaceRecord] = []
            vectors: list[NDArray[np.float32]] = []
            for page in self._pages(FACES, f"group_id > {NO_GROUP}", _ALL_FACE_FIELDS):
                keep = [r for r in self._visible(page, indexed) if int(r["group_id"]) in names]
                faces.extend(_face(r, False) for r in keep)
                vectors.append(_vectors(keep, self.space.dim))
        if not faces:
            return []
        order = sorted(range(len(faces)), key=lambda i: (faces[i].photo, faces[i].box[0], faces[i].box[1], faces[i].id))
        x = np.concatenate(vectors)[order]
        faces = [faces[i] for i in order]
        ids, sizes, best = group_representatives(np.array([f.group for f in faces], dtype=np.int64), x)
        out = [
            GroupRecord(int(g), int(n), names[int(g)] or None, replace(faces[b], embedding=x[b]))
            for g, n, b in zip(ids, sizes, best, strict=True)
        ]
        return sorted(out, key=lambda g: (-g.size, g.id))

    def group(self, group: int) -> GroupRecord | None:
        with self._conn.errors("read"):
            found = self._rows(GROUPS, f"id == {int(group)}", ["id", "name"])
        if not found:
            return None
        name = str(found[0]["name"]) or None
        faces = self.faces(group=int(group), with_encodings=True)
        if not faces:
            return GroupRecord(int(group), 0, name, None)
        x = np.stack([f.embedding for f in faces if f.embedding is not None])
        _, _, best = group_representatives(np.full(len(faces), int(group), dtype=np.int64), x)
        return GroupRecord(int(group), len(faces), name, faces[int(best[0])])

    def name_group(self, group: int, name: str) -> None:
        clean = self.clean_name(name)
        skeleton = name_skeleton(clean)
        with self._conn.errors("name a group in"):
            self._existing_group(group)
            other = self._client.query(
                GROUPS, filter=f"skeleton == {quote(skeleton)} and id != {int(group)}", output_fields=["id"]
            )
            if other:
                raise ConflictError(f"another group is already named {clean!r}; merge the two groups instead")
            self._client.upsert(GROUPS, [{"id": int(group), "name": clean, "skeleton": skeleton, "unused": UNUSED}])

    def merge_groups(self, into: int, others: Sequence[int]) -> int:
        moved = 0
        with self._conn.errors("merge groups in"):
            for group in (into, *others):
                self._existing_group(group)
            for group in others:
                if group == into:
                    continue
                rows = self._rows(FACES, f"group_id == {int(group)}", _ALL_FACE_FIELDS)
                self._move_faces(rows, lambda _: int(into))
                moved += len(self._visible(rows))
                self._delete_in(GROUPS, "id", [int(group)])
        return moved

    def split_faces(self, face_ids: Sequence[int]) -> int:
        ids = [int(f) for f in face_ids]
        with self._conn.errors("split a group in"):
            rows = self._face_rows(ids)
            if not ids or len(rows) != len(set(ids)):
                raise NotFoundError(f"some of faces {ids} are not in archive index {self.url}")
            [group] = self._new_groups(1)
            self._move_faces(rows, lambda _: group)
            self._drop_empty_groups()
        return group

    def group_of_name(self, name: str) -> int | None:
        skeleton = name_skeleton(self.clean_name(name))
        with self._conn.errors("read"):
            rows = self._client.query(GROUPS, filter=f"skeleton == {quote(skeleton)}", output_fields=["id"])
        return int(rows[0]["id"]) if rows else None

    def close(self) -> None:
        self._conn.close()


Field = tuple[str, str, dict[str, int]]


def _layout(dim: int) -> dict[str, tuple[list[Field], list[str]]]:
    """Each collection's fields (name, pymilvus DataType name, parameters; the primary key first) and the
    fields with a scalar index, in creation order (the meta collection last)."""
    unused: Field = ("unused", "FLOAT_VECTOR", {"dim": 2})  # Milvus needs a vector field in every collection
    photos: list[Field] = [
        ("path", "VARCHAR", {"max_length": PATH_BYTES}),
        ("hash", "VARCHAR", {"max_length": 128}),
        ("size", "INT64", {}),
        ("mtime_ns", "INT64", {}),
        ("n_faces", "INT64", {}),
        ("error", "VARCHAR", {"max_length": 4 * ERROR_CHARS}),
        unused,
    ]
    faces: list[Field] = [
        ("id", "INT64", {}),
        ("photo", "VARCHAR", {"max_length": PATH_BYTES}),
        *((corner, "INT64", {}) for corner in ("x0", "y0", "x1", "y1")),
        ("score", "DOUBLE", {}),
        ("group_id", "INT64", {}),
        ("vector", "FLOAT_VECTOR", {"dim": dim}),
    ]
    groups: list[Field] = [
        ("id", "INT64", {}),
        ("name", "VARCHAR", {"max_length": 1024}),
        ("skeleton", "VARCHAR", {"max_length": 2048}),
        unused,
    ]
    meta: list[Field] = [("key", "VARCHAR", {"max_length": 64}), ("value", "VARCHAR", {"max_length": 8192}), unused]
    return {PHOTOS: (photos, []), FACES: (faces, ["photo", "group_id"]), GROUPS: (groups, []), META: (meta, [])}


def _photo(row: Row) -> PhotoRecord:
    return PhotoRecord(
        str(row["path"]),
        str(row["hash"]),
        int(row["size"]),
        int(row["mtime_ns"]),
        int(row["n_faces"]),
        str(row["error"]) or None,
    )


def _face(row: Row, with_encoding: bool) -> FaceRecord:
    group = int(row["group_id"])
    box = (int(row["x0"]), int(row["y0"]), int(row["x1"]), int(row["y1"]))
    embedding = np.asarray(row["vector"], dtype=np.float32) if with_encoding else None
    return FaceRecord(
        int(row["id"]), str(row["photo"]), box, float(row["score"]), None if group < 0 else group, embedding
    )


def _face_row_fields(row: Row) -> Row:
    """A face row as read, with only the stored fields (ready to write back)."""
    return {field: row[field] for field in _ALL_FACE_FIELDS}


def _vectors(rows: Sequence[Row], dim: int) -> NDArray[np.float32]:
    return np.asarray([r["vector"] for r in rows], dtype=np.float32).reshape(len(rows), dim)


def _row_bytes(row: Row) -> int:
    """About how many bytes ``row`` takes in a request."""
    total = 0
    for value in row.values():
        if isinstance(value, str):
            total += len(value.encode("utf-8", "surrogateescape")) + 8
        elif isinstance(value, list | np.ndarray):
            total += 4 * len(value)
        else:
            total += 8
    return total


def _batches(rows: Sequence[Row]) -> Iterator[list[Row]]:
    """``rows`` in requests of at most :data:`BATCH_ROWS` rows and :data:`BATCH_BYTES` bytes."""
    batch: list[Row] = []
    used = 0
    for row in rows:
        size = _row_bytes(row)
        if batch and (len(batch) >= BATCH_ROWS or used + size > BATCH_BYTES):
            yield batch
            batch, used = [], 0
        batch.append(row)
        used += size
    if batch:
        yield batch


def _in_filters(field: str, values: Iterable[int | str]) -> Iterator[str]:
    """``field in [...]`` filters covering ``values``, each of at most :data:`FILTER_VALUES` values and
    :data:`FILTER_BYTES` bytes."""
    chunk: list[str] = []
    used = 0
    for value in values:
        literal = quote(value) if isinstance(value, str) else str(int(value))
        if chunk and (len(chunk) >= FILTER_VALUES or used + len(literal) > FILTER_BYTES):
            yield f"{field} in [{', '.join(chunk)}]"
            chunk, used = [], 0
        chunk.append(literal)
        used += len(literal) + 2
    if chunk:
        yield f"{field} in [{', '.join(chunk)}]"
