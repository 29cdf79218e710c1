"""Approximate nearest-identity search for large SQLite galleries: HNSW (usearch) or IVF (FAISS).

* HNSW (hierarchical navigable small-world graph) visits O(log N) encodings per probe; slow to build
  (minutes at 1M on 2 cores), fast and accurate to search, cheap to update.
* IVF (inverted file: k-means into ``nlist`` cells, scan the ``nprobe`` nearest cells) builds in
  seconds and searches ~nprobe/nlist of the gallery.

Both are keyed by *identity id* with several vectors per key allowed, so the nearest key is the identity
whose nearest encoding is closest, d_k(q) = min_j ||q - x_kj||^2, as in exact search, and removing a
person drops all their vectors at once. Recall against exact search is measured in
``benchmarks/bench_gallery_search.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from convapps.errors import ModelNotAvailableError


@dataclass(frozen=True)
class HnswParams:
    """HNSW settings.

    Attributes:
        connectivity: graph degree M (more = better recall, more memory, slower build).
        expansion_add: candidate list size while building (efConstruction).
        expansion_search: candidate list size while searching (ef); the recall/speed knob.
        threads: threads for bulk build and batch search (0 = all cores).
    """

    connectivity: int = 16
    expansion_add: int = 128
    expansion_search: int = 128
    threads: int = 0


@dataclass(frozen=True)
class IvfParams:
    """IVF settings.

    Attributes:
        nlist: number of k-means cells (None: sqrt(N) at build time, at most N / 39 so k-means has
            enough points; below ``min_train`` encodings the index is an exact flat scan instead).
        nprobe: cells scanned per probe; the recall/speed knob.
        train_sample: encodings used to train k-means.
        min_train: smallest gallery that gets an IVF index.
        threads: OpenMP threads (0 = FAISS default).
    """

    nlist: int | None = None
    nprobe: int = 48
    train_sample: int = 64_000
    min_train: int = 2_000
    threads: int = 0


class AnnIndex(Protocol):
    """What the SQLite gallery needs from an approximate index."""

    def add(self, identity_ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None: ...
    def remove(self, identity_id: int) -> None: ...
    @property
    def memory_bytes(self) -> int: ...
    def nearest(self, queries: NDArray[np.float32], k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]: ...


def build_ann(
    params: HnswParams | IvfParams, identity_ids: NDArray[np.int64], vectors: NDArray[np.float32], dim: int
) -> AnnIndex:
    """An index of the given kind holding ``vectors`` (N, D) owned by ``identity_ids`` (N,)."""
    index: AnnIndex = IvfIndex(dim, params, vectors) if isinstance(params, IvfParams) else HnswIndex(dim, params)
    index.add(identity_ids, vectors)
    return index


def _dedupe(
    keys: NDArray[np.int64], dist: NDArray[np.float32], counts: NDArray[np.int64], k: int
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """First ``k`` distinct keys per row of candidate lists sorted by distance; pads with -1 / inf."""
    b = keys.shape[0]
    ids = np.full((b, k), -1, dtype=np.int64)
    dists = np.full((b, k), np.inf, dtype=np.float32)
    for row in range(b):
        seen: list[int] = []
        for col in range(int(counts[row])):
            key = int(keys[row, col])
            if key >= 0 and key not in seen:
                ids[row, len(seen)] = key
                dists[row, len(seen)] = max(0.0, float(dist[row, col]))
                seen.append(key)
                if len(seen) == k:
                    break
    return ids, dists


SEQUENTIAL_SEED = 1024
"""Vectors inserted single-threaded before an HNSW graph accepts parallel inserts."""


class HnswIndex:
    """An in-memory usearch HNSW index over (identity id, encoding) pairs, squared L2 metric."""

    def __init__(self, dim: int, params: HnswParams | None = None) -> None:
        try:
            from usearch.index import Index
        except ImportError as exc:  # pragma: no cover - usearch is a dependency
            raise ModelNotAvailableError("approximate search needs usearch: pip install usearch") from exc
        self.params = params or HnswParams()
        self._index = Index(
            ndim=dim,
            metric="l2sq",
            dtype="f32",
            connectivity=self.params.connectivity,
            expansion_add=self.params.expansion_add,
            expansion_search=self.params.expansion_search,
            multi=True,
        )
        self._keys: set[int] = set()

    def add(self, identity_ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
        """Insert encodings (N, D) owned by ``identity_ids`` (N,)."""
        if len(identity_ids) == 0:
            return
        keys = np.asarray(identity_ids, np.uint64)
        # Concurrent inserts into a young graph link nodes that never saw each other and lose recall
        # (600 random encodings built on 4 threads: recall@1 down to 0.76). The first SEQUENTIAL_SEED
        # vectors go in one at a time; the rest, which find a well-connected graph, go in parallel.
        seed = max(0, min(len(keys), SEQUENTIAL_SEED - len(self._index)))
        if seed:
            self._index.add(keys[:seed], vectors[:seed], threads=1)
        if seed < len(keys):
            self._index.add(keys[seed:], vectors[seed:], threads=self.params.threads)
        self._keys.update(int(i) for i in np.unique(identity_ids))

    def remove(self, identity_id: int) -> None:
        """Drop every encoding of one identity."""
        if identity_id in self._keys:
            self._index.remove(identity_id)
            self._keys.discard(identity_id)

    @property
    def n_identities(self) -> int:
        return len(self._keys)

    @property
    def memory_bytes(self) -> int:
        return int(self._index.memory_usage)

    def nearest(self, queries: NDArray[np.float32], k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The ``k`` nearest identities of each probe (B, D): ids and squared distances, (B, k').

        Several vectors may share an identity, so ``k * 4`` candidates are fetched and deduplicated;
        rows are padded with id -1 / distance inf when fewer than ``k'`` distinct identities were found.
        """
        k = min(k, self.n_identities)
        b = queries.shape[0]
        if k == 0:
            return np.full((b, 0), -1, dtype=np.int64), np.full((b, 0), np.inf, dtype=np.float32)
        fetch = k if k == 1 else min(len(self._index), k * 4)
        found = self._index.search(queries, fetch, threads=self.params.threads)
        keys = np.asarray(found.keys).astype(np.int64).reshape(b, -1)
        dist = np.asarray(found.distances, dtype=np.float32).reshape(b, -1)
        counts = np.asarray(getattr(found, "counts", [len(found.keys)])).reshape(b)  # Matches if b == 1
        return _dedupe(keys, dist, counts, k)


class IvfIndex:
    """FAISS inverted-file index (IndexIVFFlat, squared L2) keyed by identity id; an exact flat index
    when the gallery is too small to train k-means."""

    def __init__(self, dim: int, params: IvfParams | None, sample: NDArray[np.float32]) -> None:
        try:
            import faiss  # type: ignore[import-untyped,unused-ignore]
        except ImportError as exc:  # pragma: no cover - faiss-cpu is a dependency
            raise ModelNotAvailableError("IVF search needs faiss: pip install faiss-cpu") from exc
        self.params = params or IvfParams()
        if self.params.threads:
            faiss.omp_set_num_threads(self.params.threads)
        self._keys: dict[int, int] = {}
        self._index: Any
        n = len(sample)
        if n < self.params.min_train:
            self._index = faiss.IndexIDMap(faiss.IndexFlatL2(dim))
            return
        nlist = self.params.nlist or int(math.sqrt(n))
        nlist = max(1, min(nlist, n // 39))
        quantizer = faiss.IndexFlatL2(dim)
        self._index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_L2)
        pick = np.random.default_rng(0).choice(n, size=min(n, self.params.train_sample), replace=False)
        self._index.train(np.ascontiguousarray(sample[np.sort(pick)]))
        self._index.nprobe = min(self.params.nprobe, nlist)
        self._quantizer = quantizer  # keep alive: the IVF index does not own it

    def add(self, identity_ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
        if len(identity_ids) == 0:
            return
        self._index.add_with_ids(np.ascontiguousarray(vectors, np.float32), np.asarray(identity_ids, np.int64))
        for key in identity_ids.tolist():
            self._keys[key] = self._keys.get(key, 0) + 1

    def remove(self, identity_id: int) -> None:
        if self._keys.pop(identity_id, None) is not None:
            self._index.remove_ids(np.array([identity_id], dtype=np.int64))

    @property
    def n_identities(self) -> int:
        return len(self._keys)

    @property
    def memory_bytes(self) -> int:
        return int(self._index.ntotal) * (int(self._index.d) * 4 + 8)

    def nearest(self, queries: NDArray[np.float32], k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The ``k`` nearest identities of each probe (B, D), as :meth:`HnswIndex.nearest`."""
        k = min(k, self.n_identities)
        b = queries.shape[0]
        if k == 0:
            return np.full((b, 0), -1, dtype=np.int64), np.full((b, 0), np.inf, dtype=np.float32)
        fetch = k if k == 1 else min(int(self._index.ntotal), k * 4)
        dist, keys = self._index.search(np.ascontiguousarray(queries, np.float32), fetch)
        counts = (keys >= 0).sum(axis=1)
        return _dedupe(keys.astype(np.int64), dist.astype(np.float32), counts, k)
