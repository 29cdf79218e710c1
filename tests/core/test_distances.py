"""The lecture's d(a, b) = ||a - b||^2 and the L2 <-> squared threshold mapping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convapps.core.distances import l2_to_squared, pairwise_squared_l2, squared_l2_distance, squared_to_l2
from convapps.errors import InvalidInputError, ShapeError


def test_squared_l2_hand_computed() -> None:
    # (1-4)^2 + (2-6)^2 = 9 + 16 = 25 (the plain L2 distance would be 5)
    assert float(squared_l2_distance([1.0, 2.0], [4.0, 6.0])) == 25.0
    assert float(squared_l2_distance([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])) == 0.0


def test_squared_l2_broadcasts_over_leading_axes() -> None:
    a = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 4.0]])
    d = squared_l2_distance(a, np.zeros(2))
    assert d.shape == (3,)
    np.testing.assert_allclose(d, [0.0, 2.0, 25.0])
    batch = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    assert squared_l2_distance(batch, batch[:, :1, :]).shape == (2, 3)


def test_squared_l2_is_symmetric_and_matches_norm() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 128)), rng.normal(size=(5, 128))
    np.testing.assert_allclose(squared_l2_distance(a, b), squared_l2_distance(b, a))
    np.testing.assert_allclose(squared_l2_distance(a, b), np.linalg.norm(a - b, axis=1) ** 2)


def test_pairwise_matches_loop() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 128)) * 0.1, rng.normal(size=(3, 128)) * 0.1
    out = pairwise_squared_l2(a, b)
    assert out.shape == (4, 3)
    expected = np.array([[np.sum((x - y) ** 2) for y in b] for x in a])
    np.testing.assert_allclose(out, expected, atol=1e-12)
    assert np.all(pairwise_squared_l2(a, a).diagonal() < 1e-12)
    assert np.all(pairwise_squared_l2(a, a) >= 0)


@pytest.mark.parametrize(
    ("a", "b"),
    [(np.zeros(3), np.zeros(4)), (np.float64(1.0), np.zeros(3))],
)
def test_squared_l2_rejects_bad_shapes(a: np.ndarray, b: np.ndarray) -> None:
    with pytest.raises(ShapeError):
        squared_l2_distance(a, b)


def test_pairwise_rejects_bad_shapes() -> None:
    with pytest.raises(ShapeError):
        pairwise_squared_l2(np.zeros(3), np.zeros((2, 3)))
    with pytest.raises(ShapeError):
        pairwise_squared_l2(np.zeros((2, 3)), np.zeros((2, 4)))


def test_threshold_mapping_face_recognition_default() -> None:
    assert l2_to_squared(0.6) == pytest.approx(0.36)
    assert squared_to_l2(0.36) == pytest.approx(0.6)
    for t in (0.0, 0.3, 0.55, 1.2):
        assert squared_to_l2(l2_to_squared(t)) == pytest.approx(t)


def test_threshold_mapping_gives_the_same_decisions() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(200, 8)) * 0.25, rng.normal(size=(200, 8)) * 0.25
    l2 = np.linalg.norm(a - b, axis=1)
    np.testing.assert_array_equal(l2 <= 0.6, squared_l2_distance(a, b) <= l2_to_squared(0.6))


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf])
def test_threshold_mapping_rejects_invalid(bad: float) -> None:
    with pytest.raises(InvalidInputError):
        l2_to_squared(bad)
    with pytest.raises(InvalidInputError):
        squared_to_l2(bad)
