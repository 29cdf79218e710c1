"""Clustering scores: the contingency-table formulas agree with brute force over items and pairs, and the
textbook cases (perfect grouping, all in one cluster, all singletons) give their known values."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from convapps.core.cluster_scores import cluster_scores, contingency
from convapps.errors import InvalidInputError


def _brute(pred: list[int], true: list[str]) -> tuple[float, float, float, float]:
    n = len(pred)
    p = [
        sum(pred[j] == pred[i] and true[j] == true[i] for j in range(n)) / sum(pred[j] == pred[i] for j in range(n))
        for i in range(n)
    ]
    r = [
        sum(pred[j] == pred[i] and true[j] == true[i] for j in range(n)) / sum(true[j] == true[i] for j in range(n))
        for i in range(n)
    ]
    pairs = list(combinations(range(n), 2))
    same_pred = [(i, j) for i, j in pairs if pred[i] == pred[j]]
    same_true = [(i, j) for i, j in pairs if true[i] == true[j]]
    tp = [(i, j) for i, j in same_pred if true[i] == true[j]]
    return float(np.mean(p)), float(np.mean(r)), len(tp) / len(same_pred), len(tp) / len(same_true)


def test_formulas_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        true = [f"p{k}" for k in rng.integers(0, 6, size=40)]
        pred = [int(k) for k in rng.integers(0, 8, size=40)]
        s = cluster_scores(pred, true)
        bp, br, pp, pr = _brute(pred, true)
        assert s.bcubed_precision == pytest.approx(bp) and s.bcubed_recall == pytest.approx(br)
        assert s.pairwise_precision == pytest.approx(pp) and s.pairwise_recall == pytest.approx(pr)
        assert s.bcubed_f1 == pytest.approx(2 * bp * br / (bp + br))
        assert s.n_items == 40 and s.n_clusters == len(set(pred)) and s.n_classes == len(set(true))


def test_known_cases() -> None:
    true = ["a", "a", "a", "b", "b", "c"]
    perfect = cluster_scores([5, 5, 5, 7, 7, 9], true)
    assert perfect.bcubed_f1 == 1.0 and perfect.pairwise_f1 == 1.0
    one = cluster_scores([0] * 6, true)
    assert one.bcubed_recall == 1.0 and one.bcubed_precision == pytest.approx((3 * 3 + 2 * 2 + 1) / 36)
    assert one.pairwise_precision == pytest.approx(4 / 15) and one.pairwise_recall == 1.0
    singletons = cluster_scores(list(range(6)), true)
    assert singletons.bcubed_precision == 1.0 and singletons.bcubed_recall == pytest.approx(
        (3 * 1 / 3 + 2 * 1 / 2 + 1) / 6
    )
    assert singletons.pairwise_precision == 1.0 and singletons.pairwise_recall == 0.0 and singletons.pairwise_f1 == 0.0
    np.testing.assert_array_equal(contingency([1, 1, 2], ["x", "y", "y"]), [[1, 1], [0, 1]])


def test_bad_labels() -> None:
    with pytest.raises(InvalidInputError, match="one length"):
        cluster_scores([0, 1], ["a"])
    with pytest.raises(InvalidInputError, match="no items"):
        cluster_scores([], [])
