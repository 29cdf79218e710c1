"""Normalisation, stratified splits and folds, class weights, augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convapps.errors import InvalidInputError
from convapps.nd.datasets import AugmentDataset, class_weights, normalize, stratified_folds, stratified_split


def test_zscore_and_unit() -> None:
    x = np.array([[[1.0, 2.0, 3.0]], [[5.0, 5.0, 5.0]]])
    z = normalize(x, "zscore")
    np.testing.assert_allclose(z[0, 0], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    np.testing.assert_allclose(z[1, 0], [0.0, 0.0, 0.0])  # constant series: no division by zero
    u8 = np.array([[[[0, 255], [51, 102]]]], dtype=np.uint8)
    np.testing.assert_allclose(normalize(u8, "unit")[0, 0], [[0.0, 1.0], [0.2, 0.4]])
    np.testing.assert_allclose(normalize(x, "unit")[0, 0], [0.0, 0.5, 1.0])
    with pytest.raises(InvalidInputError):
        normalize(x, "minmax")  # type: ignore[arg-type]


def test_stratified_split_keeps_class_shares() -> None:
    y = np.array([0] * 80 + [1] * 18 + [2] * 2)
    train, val = stratified_split(y, 0.25, seed=0)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 100
    assert np.bincount(y[val]).tolist() == [20, 4, 0 + 1]
    again = stratified_split(y, 0.25, seed=0)
    np.testing.assert_array_equal(val, again[1])


def test_stratified_folds_partition() -> None:
    y = np.array([0] * 292 + [1] * 177 + [2] * 10 + [3] * 19 + [4] * 2)
    folds = stratified_folds(y, 5, seed=1)
    tests = np.concatenate([t for _, t in folds])
    assert sorted(tests.tolist()) == list(range(500))
    for train, test in folds:
        assert len(np.intersect1d(train, test)) == 0
        assert np.bincount(y[test], minlength=5)[2] == 2  # 10 samples of class 2 -> 2 per fold
    with pytest.raises(InvalidInputError):
        stratified_folds(y, 1, seed=0)


def test_class_weights_balanced() -> None:
    w = class_weights(np.array([0, 0, 0, 1]), 3)
    torch.testing.assert_close(w, torch.tensor([4 / 9, 4 / 3, 0.0]))


def test_augment_dataset() -> None:
    x = torch.arange(2 * 1 * 8, dtype=torch.float32).reshape(2, 1, 8)
    torch.manual_seed(0)
    data = AugmentDataset(x, torch.tensor([0, 1]), shift=2)
    shifted, label = data[1]
    assert int(label) == 1 and sorted(shifted.flatten().tolist()) == sorted(x[1].flatten().tolist())
    vol = torch.arange(8.0).reshape(1, 1, 2, 2, 2)
    seen = {tuple(AugmentDataset(vol, torch.tensor([0]), flips=True)[0][0].flatten().tolist()) for _ in range(40)}
    assert len(seen) > 4  # several of the 8 flip combinations occur


def test_orthogonal_slices_are_the_three_centre_planes() -> None:
    from convapps.nd.volume import orthogonal_slices

    x = np.arange(2 * 5**3, dtype=np.float32).reshape(2, 1, 5, 5, 5)
    views = orthogonal_slices(x)
    assert views.shape == (2, 3, 5, 5)
    np.testing.assert_array_equal(views[1, 0], x[1, 0, 2])
    np.testing.assert_array_equal(views[1, 1], x[1, 0, :, 2, :])
    np.testing.assert_array_equal(views[1, 2], x[1, 0, :, :, 2])
    with pytest.raises(InvalidInputError, match="cubic volumes"):
        orthogonal_slices(np.zeros((1, 1, 4, 5, 5)))
