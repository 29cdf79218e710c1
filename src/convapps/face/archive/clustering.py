"""Grouping unnamed faces into people: faces of one person lie close together in the encoding space
(the lecture's f(x)), so a photo archive's faces can be grouped before anybody is named.

Three methods over the same encodings (distances are Euclidean, ``||f(a) - f(b)||``, dlib's convention
for clustering; the square of the verification threshold 0.6 is convapps' tau 0.36):

* ``linkage`` (ours): average-linkage agglomerative clustering on a k-nearest-neighbour graph. Two
  groups merge while the MEAN distance between their faces (over the graph's edges) is below
  ``threshold``, so one look-alike pair cannot chain two people together, as it can with single-link
  methods; the graph keeps memory at O(N k) instead of O(N^2).
* ``chinese-whispers``: dlib's ``chinese_whispers_clustering`` (the recipe face_recognition users
  follow): a graph with an edge for every pair closer than ``threshold``, labels spread by majority vote.
* ``hdbscan``: density-based clustering (scikit-learn's HDBSCAN); faces it calls noise are one-off faces.

Every method returns one label per face; a face that belongs to nobody else is its own group (a
singleton), never forced into a group and never left unlabelled. Labels are renumbered by group size,
largest first, so label 0 is the person seen most often.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from convapps.errors import InvalidInputError

ClusterMethod = Literal["linkage", "chinese-whispers", "hdbscan"]
CLUSTER_METHODS: tuple[ClusterMethod, ...] = ("linkage", "chinese-whispers", "hdbscan")

DEFAULT_THRESHOLDS: dict[ClusterMethod, float] = {"linkage": 0.2, "chinese-whispers": 0.5, "hdbscan": 2.0}
"""Per method: ``linkage`` the cut on the mean SQUARED distance between two groups' faces, ``chinese-whispers`` the edge distance (0.5: dlib's
example and face_recognition's recipe), ``hdbscan`` the smallest group size (as a float)."""


@dataclass(frozen=True)
class ClusterConfig:
    """How faces are grouped.

    Attributes:
        method: ``linkage`` (default), ``chinese-whispers`` or ``hdbscan`` (see module doc).
        threshold: the method's cut (``None``: :data:`DEFAULT_THRESHOLDS`); for ``hdbscan`` the
            smallest group size.
        neighbours: ``linkage``: edges per face in the k-nearest-neighbour graph.
    """

    method: ClusterMethod = "linkage"
    threshold: float | None = None
    neighbours: int = 30

    def __post_init__(self) -> None:
        if self.method not in CLUSTER_METHODS:
            raise InvalidInputError(
                f"unknown clustering method {self.method!r}: use one of {', '.join(CLUSTER_METHODS)}"
            )
        if self.threshold is not None and not self.threshold > 0:
            raise InvalidInputError(f"threshold must be > 0, got {self.threshold}")
        if self.neighbours < 1:
            raise InvalidInputError(f"neighbours must be >= 1, got {self.neighbours}")

    @property
    def cut(self) -> float:
        """The threshold in use."""
        return DEFAULT_THRESHOLDS[self.method] if self.threshold is None else self.threshold


def by_size(labels: ArrayLike) -> NDArray[np.int64]:
    """Relabel so groups are numbered 0, 1, ... by decreasing size (ties: first appearance); a negative
    label (noise) becomes a singleton group of its own."""
    raw = np.asarray(labels, dtype=np.int64).copy()
    noise = raw < 0
    if noise.any():
        raw[noise] = raw.max(initial=-1) + 1 + np.arange(int(noise.sum()))
    _, first, inverse, counts = np.unique(raw, return_index=True, return_inverse=True, return_counts=True)
    order = np.lexsort((first, -counts))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse].astype(np.int64)


def knn_graph(x: NDArray[np.float32], k: int, *, chunk: int = 2048) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Exact k nearest neighbours of every row (itself excluded): indices and Euclidean distances ``(N, k)``,
    computed in chunks of ``chunk`` rows so memory stays at O(chunk N)."""
    n = len(x)
    k = min(k, n - 1)
    sq = (x.astype(np.float64) ** 2).sum(axis=1)
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, chunk):
        block = x[start : start + chunk].astype(np.float64)
        d2 = sq[start : start + chunk, None] - 2 * block @ x.T.astype(np.float64) + sq[None, :]
        d2[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(d2, part, axis=1)
        idx[start : start + chunk] = part
        dist[start : start + chunk] = np.sqrt(np.maximum(vals, 0.0))
    return idx, dist


def average_linkage(x: NDArray[np.float32], threshold: float, neighbours: int) -> NDArray[np.int64]:
    """Average-linkage agglomerative clustering under squared L2, merging the closest pair of groups
    while their mean pairwise squared distance is at most ``threshold``.

    The mean squared distance between the members of groups A and B has a closed form in their
    centroids mu and spreads s (mean squared distance of a member to its centroid)::

        D(A, B) = 1/(|A||B|) sum_{a in A, b in B} ||a - b||^2 = ||mu_A - mu_B||^2 + s_A + s_B

    so a merge costs O(D) whatever the group sizes. Candidate pairs are the groups joined by an edge of
    the k-nearest-neighbour graph (a merged group inherits its parts' edges); groups that are not
    neighbours are far apart and would not merge below a face-identity threshold anyway.
    """
    import heapq

    n = len(x)
    idx, _ = knn_graph(x, neighbours)
    mean = x.astype(np.float64)
    size = np.ones(n)
    spread = np.zeros(n)
    version = np.zeros(n, dtype=np.int64)
    parent = np.arange(n)
    adjacent: list[set[int]] = [set() for _ in range(n)]
    for i in range(n):
        for j in idx[i]:
            if i != j:
                adjacent[i].add(int(j))
                adjacent[int(j)].add(i)

    def gap(a: int, b: int) -> float:
        diff = mean[a] - mean[b]
        return float(diff @ diff + spread[a] + spread[b])

    heap = [(gap(i, j), i, j, 0, 0) for i in range(n) for j in adjacent[i] if i < j]
    heapq.heapify(heap)
    while heap:
        d, a, b, va, vb = heapq.heappop(heap)
        if d > threshold:
            break
        if parent[a] != a or parent[b] != b or version[a] != va or version[b] != vb:
            continue  # stale: one of the two has merged since
        total = size[a] + size[b]
        merged = (size[a] * mean[a] + size[b] * mean[b]) / total
        spread[a] = (
            size[a] * (spread[a] + ((mean[a] - merged) ** 2).sum())
            + size[b] * (spread[b] + ((mean[b] - merged) ** 2).sum())
        ) / total
        mean[a], size[a] = merged, total
        parent[b] = a
        version[a] += 1
        for c in adjacent[b]:
            adjacent[c].discard(b)
            if c != a:
                adjacent[c].add(a)
                adjacent[a].add(c)
        adjacent[a].discard(b)
        adjacent[b] = set()
        for c in adjacent[a]:
            heapq.heappush(heap, (gap(a, c), a, c, int(version[a]), int(version[c])))
    # follow merges to the surviving group of each face
    root = parent.copy()
    while True:
        nxt = root[root]
        if (nxt == root).all():
            return root.astype(np.int64)
        root = nxt


def _chinese_whispers(x: NDArray[np.float32], threshold: float) -> NDArray[np.int64]:
    from convapps.models.dlib_face import dlib_module

    dlib = dlib_module()
    vectors = [dlib.vector(row.astype(np.float64).tolist()) for row in x]
    return np.asarray(dlib.chinese_whispers_clustering(vectors, threshold), dtype=np.int64)


def _hdbscan(x: NDArray[np.float32], min_size: int) -> NDArray[np.int64]:
    from sklearn.cluster import HDBSCAN

    return np.asarray(HDBSCAN(min_cluster_size=max(2, min_size), copy=True).fit_predict(x), dtype=np.int64)


def cluster_encodings(encodings: ArrayLike, config: ClusterConfig | None = None) -> NDArray[np.int64]:
    """Group labels ``(N,)`` of encodings ``(N, D)``: 0 = the largest group; singletons are groups too."""
    cfg = config or ClusterConfig()
    x = np.ascontiguousarray(np.asarray(encodings, dtype=np.float32))
    if x.ndim != 2 or len(x) == 0:
        raise InvalidInputError(f"encodings must be a non-empty (N, D) array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InvalidInputError("encodings contain NaN or infinite values")
    if len(x) == 1:
        return np.zeros(1, dtype=np.int64)
    if cfg.method == "linkage":
        labels = average_linkage(x, cfg.cut, cfg.neighbours)
    elif cfg.method == "chinese-whispers":
        labels = _chinese_whispers(x, cfg.cut)
    else:
        labels = _hdbscan(x, round(cfg.cut))
    return by_size(labels)
