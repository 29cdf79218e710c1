"""Grouping encodings: on synthetic people (tight groups on a sphere, plus one-off faces) every method
finds the groups (HDBSCAN nearly) and leaves the one-off faces alone; labels are numbered by group size; bad input is
refused with a clear error."""

from __future__ import annotations

import numpy as np
import pytest

from convapps.core.cluster_scores import cluster_scores
from convapps.errors import InvalidInputError
from convapps.face.archive import clustering
from convapps.face.archive.clustering import ClusterConfig, by_size, cluster_encodings, knn_graph


def _people(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """6 people with 2-12 faces each (spread 0.15 around a random point at distance ~1 from the others)
    and 10 one-off faces, in 128-d."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(16, 128)) / np.sqrt(2 * 128) * 1.2
    sizes = [12, 8, 5, 3, 2, 2] + [1] * 10
    x = np.concatenate(
        [c + rng.normal(scale=0.15 / np.sqrt(128), size=(n, 128)) for c, n in zip(centres, sizes, strict=True)]
    )
    truth = np.repeat(np.arange(16), sizes)
    return x.astype(np.float32), truth


@pytest.mark.parametrize("method", ["linkage", "chinese-whispers", "hdbscan"])
def test_every_method_finds_the_people_and_keeps_singletons(method: str) -> None:
    x, truth = _people()
    labels = cluster_encodings(x, ClusterConfig(method=method))  # type: ignore[arg-type]
    s = cluster_scores(labels, truth)
    # HDBSCAN, density-based, may call a 2-face person noise (two singletons)
    assert s.bcubed_f1 >= (0.9 if method == "hdbscan" else 1.0), s
    assert labels.min() == 0 and (labels >= 0).all()
    assert np.bincount(labels)[0] >= 12 and (labels[:12] == 0).all()  # group 0 is the largest person
    assert (np.diff(np.bincount(labels)) <= 0).all()


def test_average_linkage_does_not_chain_two_people_through_a_look_alike() -> None:
    """Two people 0.9 apart, joined by a 'bridge' face 0.45 from each: single-link methods (chinese
    whispers at 0.5) merge everything; average linkage keeps the two people apart."""
    rng = np.random.default_rng(1)
    a, b = np.zeros(128), np.zeros(128)
    b[0] = 0.9
    noise = 0.02 / np.sqrt(128)
    x = np.concatenate(
        [a + rng.normal(scale=noise, size=(6, 128)), b + rng.normal(scale=noise, size=(6, 128)), [(a + b) / 2]]
    ).astype(np.float32)
    ours = cluster_encodings(x, ClusterConfig(method="linkage", threshold=0.55))
    assert len(set(ours[:6])) == 1 and len(set(ours[6:12])) == 1 and ours[0] != ours[6]
    whispers = cluster_encodings(x, ClusterConfig(method="chinese-whispers", threshold=0.5))
    assert len(set(whispers)) < 3


def test_by_size_knn_and_bad_input() -> None:
    np.testing.assert_array_equal(by_size([7, 7, 3, -1, 3, 3, -1]), [1, 1, 0, 2, 0, 0, 3])
    x = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 3.0], [5.0, 0.0]], dtype=np.float32)
    idx, dist = knn_graph(x, 2, max_block=12)  # 3 rows per chunk: two chunks
    np.testing.assert_array_equal(np.sort(idx[0]), [1, 2])
    np.testing.assert_allclose(np.sort(dist[2]), [2.0, 3.0])
    # chunked or not, the same neighbours and distances (checked against brute force)
    y = np.random.default_rng(3).standard_normal((50, 8)).astype(np.float32)
    brute = ((y[:, None, :].astype(np.float64) - y[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(brute, np.inf)
    for max_block in (50, 500, 1 << 24):
        idx, dist = knn_graph(y, 5, max_block=max_block)
        np.testing.assert_array_equal(np.sort(idx, axis=1), np.sort(np.argsort(brute, axis=1)[:, :5], axis=1))
        np.testing.assert_allclose(np.sort(dist, axis=1), np.sqrt(np.sort(brute, axis=1)[:, :5]), rtol=1e-5)
    assert cluster_encodings(x[:1]).tolist() == [0]
    with pytest.raises(InvalidInputError, match="non-empty"):
        cluster_encodings(np.zeros((0, 4)))
    with pytest.raises(InvalidInputError, match="NaN"):
        cluster_encodings(np.full((3, 4), np.nan))
    with pytest.raises(InvalidInputError, match="unknown clustering method"):
        ClusterConfig(method="kmeans")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="threshold"):
        ClusterConfig(threshold=0)


def test_linkage_reports_the_graph_then_every_thousandth_merge_and_the_last(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clustering, "MERGES_PER_REPORT", 10)
    x, _ = _people()
    calls: list[tuple[str, int, int | None]] = []
    labels = cluster_encodings(x, ClusterConfig(method="linkage"), progress=lambda *a: calls.append(a))
    merges = len(x) - len(set(labels.tolist()))  # 42 faces in 16 groups: 26 merges
    assert calls == [("neighbours", 42, 42), ("grouping", 10, None), ("grouping", 20, None), ("grouping", merges, None)]
    chunks: list[tuple[str, int, int | None]] = []
    knn_graph(x, 3, max_block=42 * 16, progress=lambda *a: chunks.append(a))  # 16 rows per chunk
    assert chunks == [("neighbours", 16, 42), ("neighbours", 32, 42), ("neighbours", 42, 42)]
