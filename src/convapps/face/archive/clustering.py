"""Grouping unnamed faces into people: faces of one person lie close together in the encoding space
(the lecture's f(x)), so a photo archive's faces can be grouped before anybody is named.

Three methods over the same encodings:

* ``linkage`` (ours): average-linkage agglomerative clustering. Two groups merge while the MEAN
  squared distance between their faces is below ``threshold``, so one look-alike pair cannot chain two
  people together as it can with single-link methods. Distances are cohort-normalised as in the open-set
  decision, ``||a - b||^2 / sqrt(c_a c_b)`` with ``c`` a face's mean squared distance to its nearest
  members of a fixed background cohort: faces in crowded parts of the space must be closer to merge.
  Merges are exact and O(D) each (closed form, :func:`average_linkage`) over the candidate pairs of a
  k-nearest-neighbour graph, so memory is O(N k), not O(N^2).
* ``chinese-whispers``: dlib's ``chinese_whispers_clustering`` (the recipe face_recognition users follow;
  Euclidean distances ``||f(a) - f(b)||``, dlib's convention): a graph with an edge for every pair
  closer than ``threshold``, labels spread by majority vote.
* ``hdbscan``: density-based clustering (scikit-learn's HDBSCAN); faces it calls noise are one-off faces.

Every method returns one label per face; a face that belongs to nobody else is its own group (a
singleton), never forced into a group and never left unlabelled. Labels are renumbered by group size,
largest first, so label 0 is the person seen most often.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from convapps.errors import InvalidInputError

ClusterMethod = Literal["linkage", "chinese-whispers", "hdbscan"]
CLUSTER_METHODS: tuple[ClusterMethod, ...] = ("linkage", "chinese-whispers", "hdbscan")

DEFAULT_THRESHOLDS: dict[ClusterMethod, float] = {"linkage": 0.825, "chinese-whispers": 0.5, "hdbscan": 2.0}
"""Per method: ``linkage`` the cut on the mean cohort-normalised squared distance between two groups' faces
(chosen on LFW View 1 training people: ``benchmarks/bench_face_cluster.py``), ``chinese-whispers`` the edge
distance (0.5: dlib's example and face_recognition's recipe), ``hdbscan`` the smallest group size."""

ClusterProgress = Callable[[str, int, int | None], None]
"""``progress(stage, done, total)`` during :func:`cluster_encodings` ``linkage``: ``("neighbours", rows, N)``
per chunk of the kNN graph, then ``("grouping", merges, None)`` every :data:`MERGES_PER_REPORT` merges and
once at the end (how many merges there will be is not known in advance)."""

MERGES_PER_REPORT = 1000

PLAIN_LINKAGE_THRESHOLD = 0.26
"""``linkage`` cut on the plain mean squared distance, for encoders without a background cohort (chosen the
same way)."""


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


def knn_graph(
    x: NDArray[np.float32], k: int, *, max_block: int = 1 << 24, progress: ClusterProgress | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Exact k nearest neighbours of every row (itself excluded): indices and Euclidean distances ``(N, k)``.

    Rows are taken in chunks of at most ``max_block / N`` (and 2048), so the two ``chunk x N`` work arrays
    (squared distances, their partial sort) stay at ~``max_block`` elements each (128 MB) whatever N; the
    work is N^2 D (the limit of one machine: see docs/face/ARCHIVE_SCALE.md)."""
    n = len(x)
    k = min(k, n - 1)
    x64 = x.astype(np.float64)
    sq = (x64**2).sum(axis=1)
    xt = np.ascontiguousarray(x64.T)
    chunk = int(max(1, min(2048, max_block // max(n, 1))))
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        d2 = x64[start:stop] @ xt  # -2 a.b + |a|^2 + |b|^2, in place
        d2 *= -2.0
        d2 += sq[None, :]
        d2 += sq[start:stop, None]
        d2[np.arange(stop - start), np.arange(start, stop)] = np.inf
        part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(d2, part, axis=1)
        del d2
        idx[start:stop] = part
        dist[start:stop] = np.sqrt(np.maximum(vals, 0.0))
        if progress is not None:
            progress("neighbours", stop, n)
    return idx, dist


def cohort_weights(x: NDArray[np.float32], cohort: NDArray[np.float32], n: int) -> NDArray[np.float64]:
    """``w = c^(-1/2)`` per face, ``c`` = mean of its ``n`` smallest squared distances to the background
    ``cohort`` (the open-set decision's normalisation: a face in a crowded part of the space gets a
    larger c, so its distances count for less)."""
    a, b = x.astype(np.float64), cohort.astype(np.float64)
    c = np.empty(len(a))
    for start in range(0, len(a), 2048):
        block = a[start : start + 2048]
        d2 = (block**2).sum(1)[:, None] - 2 * block @ b.T + (b**2).sum(1)[None, :]
        d2 = np.where(d2 < 1e-9, np.inf, d2)  # the very same face (a cohort photo in the archive) is skipped
        c[start : start + 2048] = np.sort(d2, axis=1)[:, :n].mean(axis=1)
    return np.asarray(c**-0.5, dtype=np.float64)


def average_linkage(
    x: NDArray[np.float32],
    threshold: float,
    neighbours: int,
    weights: NDArray[np.float64] | None = None,
    *,
    progress: ClusterProgress | None = None,
) -> NDArray[np.int64]:
    """Average-linkage agglomerative clustering: merge the closest pair of groups while the mean of
    ``w_a w_b ||a - b||^2`` over their pairs of faces is at most ``threshold`` (``w = 1``: plain squared L2;
    :func:`cohort_weights`: cohort-normalised distances ``||a - b||^2 / sqrt(c_a c_b)``).

    The mean has a closed form in three sums per group, ``W = sum w``, ``Q = sum w ||x||^2`` and
    ``S = sum w x``, since ``||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b``::

        D(A, B) = (W_B Q_A + W_A Q_B - 2 S_A . S_B) / (|A| |B|)

    so a merge costs O(D) whatever the group sizes, and the sums of a merged group are the sums of its
    parts. Candidate pairs are the groups joined by an edge of the k-nearest-neighbour graph (a merged
    group inherits its parts' edges); groups that are not neighbours are far apart and would not merge
    below a face-identity threshold anyway.
    """
    import heapq

    n = len(x)
    idx, _ = knn_graph(x, neighbours, progress=progress)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    a64 = x.astype(np.float64)
    total_w = w.copy()
    q = w * (a64**2).sum(axis=1)
    s_vec = a64 * w[:, None]
    size = np.ones(n)
    version = np.zeros(n, dtype=np.int64)
    parent = np.arange(n)
    adjacent: list[set[int]] = [set() for _ in range(n)]
    for i in range(n):
        for j in idx[i]:
            if i != int(j):
                adjacent[i].add(int(j))
                adjacent[int(j)].add(i)

    def gap(a: int, b: int) -> float:
        pair = total_w[b] * q[a] + total_w[a] * q[b] - 2.0 * float(s_vec[a] @ s_vec[b])
        return float(pair / (size[a] * size[b]))

    heap = [(gap(i, j), i, j, 0, 0) for i in range(n) for j in adjacent[i] if i < j]
    heapq.heapify(heap)
    merges = 0
    while heap:
        d, a, b, va, vb = heapq.heappop(heap)
        if d > threshold:
            break
        if parent[a] != a or parent[b] != b or version[a] != va or version[b] != vb:
            continue  # stale: one of the two has merged since
        total_w[a] += total_w[b]
        q[a] += q[b]
        s_vec[a] += s_vec[b]
        size[a] += size[b]
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
        merges += 1
        if progress is not None and merges % MERGES_PER_REPORT == 0:
            progress("grouping", merges, None)
    if progress is not None:
        progress("grouping", merges, None)
    root = parent.copy()
    while True:  # follow merges to the surviving group of each face
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


def cluster_encodings(
    encodings: ArrayLike,
    config: ClusterConfig | None = None,
    *,
    cohort: NDArray[np.float32] | None = None,
    cohort_n: int = 3,
    progress: ClusterProgress | None = None,
) -> NDArray[np.int64]:
    """Group labels ``(N,)`` of encodings ``(N, D)``: 0 = the largest group; singletons are groups too.

    ``cohort``: background encodings ``(M, D)`` of the encoder (its open-set calibration's); ``linkage``
    then compares cohort-normalised distances (:func:`cohort_weights`, ``cohort_n`` nearest members),
    which measured better; without one it uses plain squared distances (:data:`PLAIN_LINKAGE_THRESHOLD`
    unless a threshold is given). The anchors ignore the cohort. ``progress``: see :data:`ClusterProgress`
    (``linkage`` only: the anchors run in one library call).
    """
    cfg = config or ClusterConfig()
    x = np.ascontiguousarray(np.asarray(encodings, dtype=np.float32))
    if x.ndim != 2 or len(x) == 0:
        raise InvalidInputError(f"encodings must be a non-empty (N, D) array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InvalidInputError("encodings contain NaN or infinite values")
    if cohort is not None and (cohort.ndim != 2 or cohort.shape[1] != x.shape[1] or len(cohort) < cohort_n):
        raise InvalidInputError(f"the cohort must be (M >= {cohort_n}, {x.shape[1]}), got {cohort.shape}")
    if len(x) == 1:
        return np.zeros(1, dtype=np.int64)
    if cfg.method == "linkage":
        if cohort is None:
            cut = PLAIN_LINKAGE_THRESHOLD if cfg.threshold is None else cfg.threshold
            labels = average_linkage(x, cut, cfg.neighbours, progress=progress)
        else:
            weights = cohort_weights(x, cohort, cohort_n)
            labels = average_linkage(x, cfg.cut, cfg.neighbours, weights, progress=progress)
    elif cfg.method == "chinese-whispers":
        labels = _chinese_whispers(x, cfg.cut)
    else:
        labels = _hdbscan(x, round(cfg.cut))
    return by_size(labels)
