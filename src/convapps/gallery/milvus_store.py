"""Milvus gallery through ``pymilvus``: Milvus Lite on a local file, or a Milvus server/cluster.

Two collections: ``convapps_identities`` (one row per person: stable id, name, JSON metadata; the
reserved row id 0 holds the gallery's format, embedding space and next free id) and
``convapps_encodings`` (one row per encoding: id = person id * 4096 + j, person id, vector).
Both are created with Strong consistency (a read sees every write before it); the connection (Lite
folder, or server and database) is a :class:`~convapps.gallery.milvus_connection.MilvusConnection`.
Milvus has no multi-collection transactions, so every write has ONE commit point, a single request:
enroll writes the encodings first and the identity rows last (a crash in between leaves unreferenced
encodings that search ignores); remove deletes the identity row first. Search uses Milvus' own index:
FLAT (exact) or HNSW (``mode="ann"``), squared L2.
"""

from __future__ import annotations

import contextlib
import difflib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import ConflictError, EmbeddingSpaceMismatchError, GalleryUnreadableError, NotFoundError
from convapps.gallery.ann import HnswParams, IvfParams
from convapps.gallery.base import Gallery, Identity, Match, SearchMode, validate_name
from convapps.gallery.milvus_connection import MilvusConnection, quote
from convapps.gallery.url import GalleryUrl

IDS, ENCS = "convapps_identities", "convapps_encodings"
FORMAT, VERSION = "convapps-gallery", 1
PER_PERSON = 4096
HNSW_BUILD = {"M": 16, "efConstruction": 128}
HNSW_EF = 128
_ID_FIELDS = ["person_id", "name", "metadata", "created_at", "n_encodings"]


class MilvusGallery(Gallery):
    """Gallery in Milvus (Lite file or server); see the module docstring for the layout."""

    def __init__(
        self,
        location: GalleryUrl,
        *,
        space: EmbeddingSpace | None = None,
        mode: SearchMode = "exact",
        connect_timeout_s: float = 10.0,
        ann: HnswParams | IvfParams | None = None,
    ) -> None:
        super().__init__(space=space)
        self.url, self.mode = str(location), mode
        self._ann_params = ann or HnswParams(
            connectivity=HNSW_BUILD["M"], expansion_add=HNSW_BUILD["efConstruction"], expansion_search=HNSW_EF
        )
        self._meta: dict[str, Any] | None = None
        self._conn = MilvusConnection(location, what="gallery", timeout_s=connect_timeout_s)
        self._client = self._conn.client
        try:
            with self._errors("open"):
                self._init_identities()
        except BaseException:
            self.close()
            raise

    # ---- plumbing -----------------------------------------------------------------------------
    def _errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        return self._conn.errors(action)

    def _init_identities(self) -> None:
        from pymilvus import DataType  # type: ignore[import-untyped,unused-ignore]

        if not self._client.has_collection(IDS):
            schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("person_id", DataType.INT64, is_primary=True)
            schema.add_field("name", DataType.VARCHAR, max_length=1024)
            schema.add_field("metadata", DataType.VARCHAR, max_length=16384)
            schema.add_field("created_at", DataType.VARCHAR, max_length=64)
            schema.add_field("n_encodings", DataType.INT64)
            schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus needs one vector field
            index = self._client.prepare_index_params()
            index.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
            self._client.create_collection(IDS, schema=schema, index_params=index, consistency_level="Strong")
            fresh = {"format": FORMAT, "version": VERSION, "next_id": 1, "space": None}
            self._client.insert(IDS, [self._id_row(0, "", fresh, "", 0)])
        self._client.load_collection(IDS)
        rows = self._client.get(IDS, ids=[0], output_fields=["metadata"])
        meta: dict[str, Any] = json.loads(rows[0]["metadata"]) if rows else {}
        if meta.get("format") != FORMAT:
            raise GalleryUnreadableError(f"{self.url} holds a '{IDS}' collection that is not a convapps gallery")
        if meta.get("version") != VERSION:
            raise GalleryUnreadableError(f"gallery {self.url} has format version {meta.get('version')}")
        self._meta = meta
        if meta["space"] is not None and self._client.has_collection(ENCS):
            self._load_encodings(EmbeddingSpace.from_dict(meta["space"]))

    def _load_encodings(self, space: EmbeddingSpace) -> None:
        from pymilvus import DataType  # type: ignore[import-untyped,unused-ignore]

        want = "FLAT" if self.mode == "exact" else "IVF_FLAT" if isinstance(self._ann_params, IvfParams) else "HNSW"
        if not self._client.has_collection(ENCS):
            schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("enc_id", DataType.INT64, is_primary=True)
            schema.add_field("person_id", DataType.INT64)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=space.dim)
            self._client.create_collection(
                ENCS, schema=schema, index_params=self._index_params(want), consistency_level="Strong"
            )
        elif self._client.describe_index(ENCS, "vector").get("index_type") != want:
            self._client.release_collection(ENCS)
            self._client.drop_index(ENCS, "vector")
            self._client.create_index(ENCS, self._index_params(want))
        self._client.load_collection(ENCS)

    def _index_params(self, index_type: str) -> Any:
        params = self._client.prepare_index_params()
        extra: dict[str, int] = {}
        if isinstance(self._ann_params, HnswParams) and index_type == "HNSW":
            extra = {"M": self._ann_params.connectivity, "efConstruction": self._ann_params.expansion_add}
        elif isinstance(self._ann_params, IvfParams) and index_type == "IVF_FLAT":
            extra = {"nlist": self._ann_params.nlist or 1024}
        params.add_index(
            field_name="vector", index_name="vector", index_type=index_type, metric_type="L2", params=extra
        )
        return params

    @staticmethod
    def _id_row(pid: int, name: str, metadata: Any, created: str, n: int) -> dict[str, Any]:
        return {
            "person_id": pid,
            "name": name,
            "metadata": json.dumps(metadata),
            "created_at": created,
            "n_encodings": n,
            "unused": [0.0, 0.0],
        }

    def _stored_space(self) -> EmbeddingSpace | None:
        assert self._meta is not None
        return EmbeddingSpace.from_dict(self._meta["space"]) if self._meta["space"] else None

    @staticmethod
    def _identity(row: dict[str, Any]) -> Identity:
        return Identity(
            id=int(row["person_id"]),
            name=row["name"],
            n_encodings=int(row["n_encodings"]),
            metadata=json.loads(row["metadata"]),
            created_at=row["created_at"],
        )

    def _find(self, name: str) -> Identity | None:
        with self._errors("read"):
            rows = self._client.query(IDS, filter=f"name == {quote(name)}", output_fields=_ID_FIELDS)
        return self._identity(rows[0]) if rows else None

    def _reserve_ids(self, count: int, space: EmbeddingSpace) -> int:
        """Take ``count`` fresh person ids (one request); also records the space on first enroll."""
        assert self._meta is not None
        fresh = self._client.get(IDS, ids=[0], output_fields=["metadata"])
        meta = json.loads(fresh[0]["metadata"])
        first = int(meta["next_id"])
        meta["next_id"] = first + count
        mine = space.to_dict()
        if meta["space"] is not None and meta["space"] != mine:  # another process enrolled first
            raise EmbeddingSpaceMismatchError(f"gallery {self.url} holds encodings of {meta['space']['model_id']!r}")
        meta["space"] = mine
        self._client.upsert(IDS, [self._id_row(0, "", meta, "", 0)])
        self._meta = meta
        return first

    # ---- writes -------------------------------------------------------------------------------
    def _insert_people(
        self,
        rows: Sequence[tuple[str, NDArray[np.float32], dict[str, str | int | float | bool | None]]],
        space: EmbeddingSpace,
    ) -> list[Identity]:
        for name, _, _ in rows:
            if self._find(name) is not None:
                raise ConflictError(
                    f"{name!r} is already enrolled in gallery {self.url}; use another name or remove it first"
                )
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._errors("enroll into"):
            first = self._reserve_ids(len(rows), space)
            self._load_encodings(space)
            people = [Identity(first + i, name, len(v), meta, now) for i, (name, v, meta) in enumerate(rows)]
            enc_rows = [
                {"enc_id": p.id * PER_PERSON + j, "person_id": p.id, "vector": vec}
                for p, (_, vectors, _) in zip(people, rows, strict=True)
                for j, vec in enumerate(vectors)
            ]
            for lo in range(0, len(enc_rows), 10_000):
                self._client.upsert(ENCS, enc_rows[lo : lo + 10_000])
            id_rows = [self._id_row(p.id, p.name, p.metadata, now, p.n_encodings) for p in people]
            for lo in range(0, len(id_rows), 10_000):  # the commit point
                self._client.insert(IDS, id_rows[lo : lo + 10_000])
        return people

    def _append(self, name: str, encodings: NDArray[np.float32], space: EmbeddingSpace) -> Identity:
        person = self.get(name)
        if person.n_encodings + len(encodings) > PER_PERSON:
            raise ConflictError(f"{name!r} would have more than {PER_PERSON} encodings")
        with self._errors("add encodings to"):
            start = person.id * PER_PERSON + person.n_encodings
            self._client.upsert(
                ENCS, [{"enc_id": start + j, "person_id": person.id, "vector": v} for j, v in enumerate(encodings)]
            )
            n = person.n_encodings + len(encodings)
            self._client.upsert(IDS, [self._id_row(person.id, name, person.metadata, person.created_at, n)])
        return self.get(name)

    def remove(self, name: str) -> Identity:
        person = self.get(name)
        with self._errors("remove from"):
            self._client.delete(IDS, ids=[person.id])  # the commit point
            if self._client.has_collection(ENCS):
                self._client.delete(ENCS, filter=f"person_id == {person.id}")
        return person

    def rename(self, old: str, new: str) -> Identity:
        person = self.get(old)
        new = self.check_new_name(new, renaming=person.name)
        if self._find(new) is not None:
            raise ConflictError(f"{new!r} is already enrolled in gallery {self.url}")
        with self._errors("rename in"):
            row = self._id_row(person.id, new, person.metadata, person.created_at, person.n_encodings)
            self._client.upsert(IDS, [row])
        return self.get(new)

    # ---- reads --------------------------------------------------------------------------------
    def get(self, name: str) -> Identity:
        person = self._find(validate_name(name))
        if person is None:
            close = difflib.get_close_matches(name, [p.name for p in self.identities()], n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise NotFoundError(f"no person named {name!r} in gallery {self.url}{hint}")
        return person

    def identities(self) -> list[Identity]:
        people: list[Identity] = []
        with self._errors("read"):
            it = self._client.query_iterator(IDS, filter="person_id > 0", output_fields=_ID_FIELDS, batch_size=4096)
            while batch := it.next():
                people.extend(self._identity(r) for r in batch)
            it.close()
        return sorted(people, key=lambda p: p.id)

    def encodings_of(self, name: str) -> NDArray[np.float32]:
        person = self.get(name)
        with self._errors("read"):
            rows = self._client.query(ENCS, filter=f"person_id == {person.id}", output_fields=["enc_id", "vector"])
        rows.sort(key=lambda r: r["enc_id"])
        return np.asarray([r["vector"] for r in rows], dtype=np.float32).reshape(len(rows), -1)

    def __len__(self) -> int:
        with self._errors("read"):
            stats = self._client.get_collection_stats(IDS)
        return int(stats["row_count"]) - 1

    def _search(self, queries: NDArray[np.float32], k: int) -> list[list[Match]]:
        if not self._client.has_collection(ENCS):
            return [[] for _ in queries]
        fetch = k if k == 1 else k * 4
        params: dict[str, Any] = {"metric_type": "L2"}
        if self.mode == "ann" and isinstance(self._ann_params, HnswParams):
            params["params"] = {"ef": max(self._ann_params.expansion_search, fetch)}
        elif self.mode == "ann" and isinstance(self._ann_params, IvfParams):
            params["params"] = {"nprobe": self._ann_params.nprobe}
        with self._errors("search"):
            hits = self._client.search(
                ENCS,
                data=list(queries),
                limit=fetch,
                anns_field="vector",
                output_fields=["person_id"],
                search_params=params,
            )
            wanted = sorted({int(h["entity"]["person_id"]) for row in hits for h in row})
            found = self._client.get(IDS, ids=wanted, output_fields=_ID_FIELDS) if wanted else []
        people = {int(r["person_id"]): self._identity(r) for r in found}
        results: list[list[Match]] = []
        for row in hits:
            best: dict[int, float] = {}
            for h in row:  # sorted by distance; unreferenced (orphan) encodings are skipped
                pid = int(h["entity"]["person_id"])
                if pid in people and pid not in best:
                    best[pid] = max(0.0, float(h["distance"]))
            results.append([Match(people[p], d) for p, d in list(best.items())[:k]])
        return results

    def close(self) -> None:
        self._conn.close()
