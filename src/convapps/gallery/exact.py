"""Exact nearest-identity search over an in-memory matrix of encodings (pure NumPy).

For probes Q (B, D) and stored encodings X (N, D) owned by identities o (N,):

    ||q - x||^2 = ||q||^2 + ||x||^2 - 2 q.x        (one (B, D) x (D, N) matrix product)
    d_k(q)      = min_{j : o_j = k} ||q - x_j||^2   (nearest encoding of identity k)

The squared norms ||x||^2 are computed once, so a search costs one matrix product, unlike the
per-probe ``np.linalg.norm(X - q, axis=1)`` scan of face_recognition's ``compare_faces``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_BLOCK_ELEMENTS = 32_000_000
"""Largest (probes x encodings) distance block held at once (128 MB of float32)."""


class EncodingMatrix:
    """All encodings of a gallery, grouped by owner, ready for exact search.

    Args:
        vectors: (N, D) float32 encodings.
        owners: (N,) int64 identity id of each encoding.
    """

    def __init__(self, vectors: NDArray[np.float32], owners: NDArray[np.int64]) -> None:
        order = np.argsort(owners, kind="stable")
        self.vectors = np.ascontiguousarray(vectors[order], dtype=np.float32)
        self.owners = np.ascontiguousarray(owners[order], dtype=np.int64)
        self.sq_norms = np.einsum("nd,nd->n", self.vectors, self.vectors)
        changes = np.r_[True, self.owners[1:] != self.owners[:-1]] if len(owners) else np.zeros(0, bool)
        self.starts = np.flatnonzero(changes).astype(np.int64)
        self.identity_ids = self.owners[self.starts]
        self.one_per_identity = len(self.starts) == len(self.owners)

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def nearest(self, queries: NDArray[np.float32], k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The ``k`` nearest identities of each probe.

        Args:
            queries: (B, D) float32 probes.
            k: identities wanted per probe (capped at the number of identities K).

        Returns:
            ids (B, k') int64 and squared L2 distances (B, k') float32, sorted by distance, k' = min(k, K).
        """
        n_ids = len(self.identity_ids)
        k = min(k, n_ids)
        b = queries.shape[0]
        out_ids = np.empty((b, k), dtype=np.int64)
        out_d = np.empty((b, k), dtype=np.float32)
        if k == 0:
            return out_ids, out_d
        step = max(1, _BLOCK_ELEMENTS // max(1, len(self)))
        q_norms = np.einsum("bd,bd->b", queries, queries)
        for lo in range(0, b, step):
            q = queries[lo : lo + step]
            d = self.sq_norms[None, :] - 2.0 * (q @ self.vectors.T)
            d += q_norms[lo : lo + step, None]
            if not self.one_per_identity:
                d = np.minimum.reduceat(d, self.starts, axis=1)
            idx = _top_k(d, k)
            out_ids[lo : lo + step] = self.identity_ids[idx]
            out_d[lo : lo + step] = np.maximum(np.take_along_axis(d, idx, axis=1), 0.0)
        return out_ids, out_d


def _top_k(d: NDArray[np.float32], k: int) -> NDArray[np.intp]:
    """Column indices of the k smallest values per row, sorted ascending."""
    if k == 1:
        best: NDArray[np.intp] = np.argmin(d, axis=1)[:, None]
        return best
    part = np.argpartition(d, k - 1, axis=1)[:, :k] if k < d.shape[1] else np.tile(np.arange(d.shape[1]), (len(d), 1))
    order = np.argsort(np.take_along_axis(d, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)
