"""The hybrid (a net and MiniRocket voting): the blend is the weighted mean of the two score matrices, and
on signals told apart by a bump or a dip (anywhere), the net, MiniRocket and their blend each score on the test
split (the ensemble path included), with a clear error without a test split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convapps.errors import InvalidInputError
from convapps.nd.datasets import ClassifierData
from convapps.nd.training.hybrid import blend, cross_validate_hybrid, hybrid_test_report
from convapps.nn.convnet import ConvNetConfig
from convapps.training import FitConfig, OptimizerConfig

TINY = ConvNetConfig(ndim=1, channels=(8, 8), kernels=(5, 3), dropout=0.0)
FIT = FitConfig(epochs=15, batch_size=16, patience=None, progress=False, optimizer=OptimizerConfig(lr=3e-3))


def test_blend_is_the_weighted_mean() -> None:
    net = np.array([[1.0, 0.0], [0.2, 0.8]])
    anchor = np.array([[0.0, 1.0], [0.6, 0.4]])
    np.testing.assert_allclose(blend(net, anchor), [[0.5, 0.5], [0.4, 0.6]])
    np.testing.assert_allclose(blend(net, anchor, net_weight=1.0), net)
    np.testing.assert_allclose(blend(net, anchor, net_weight=0.25), 0.25 * net + 0.75 * anchor)
    with pytest.raises(InvalidInputError, match="both be"):
        blend(net, anchor[:1])
    with pytest.raises(InvalidInputError, match="net_weight"):
        blend(net, anchor, net_weight=1.5)


def _bumps(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise with a bump (class 0) or a dip (class 1) 10 samples wide, placed at random."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(0, 0.3, size=(n, 1, 64)).astype(np.float32)
    for i, label in enumerate(y):
        start = rng.integers(0, 54)
        x[i, 0, start : start + 10] += 2.0 if label == 0 else -2.0
    return x, y.astype(np.int64)


def _data() -> ClassifierData:
    x, y = _bumps(60, 0)
    xt, yt = _bumps(40, 1)
    return ClassifierData(x[:48], y[:48], x[48:], y[48:], ("bump", "dip"), xt, yt)


def test_net_minirocket_and_blend_each_learn_the_task() -> None:
    torch.manual_seed(0)
    result = hybrid_test_report(_data(), model_config=TINY, fit_config=FIT, seed=0)
    assert result.anchor.accuracy >= 0.95 and result.net.accuracy >= 0.9
    assert result.hybrid.accuracy >= 0.95 and result.hybrid.n == 40 and result.seconds > 0
    ensemble = hybrid_test_report(_data(), model_config=TINY, fit_config=FIT, ensemble_folds=2, seed=0)
    assert ensemble.hybrid.accuracy >= 0.95 and ensemble.net.n == 40


def test_cross_validation_and_missing_test_split() -> None:
    data = _data()
    assert data.x_test is not None and data.y_test is not None
    half = ClassifierData(
        data.x_train, data.y_train, data.x_val, data.y_val, data.classes, data.x_test[:20], data.y_test[:20]
    )
    folds = [data, half]
    cv = cross_validate_hybrid(folds, model_config=TINY, fit_config=FIT)
    assert [r.n for r in cv.folds] == [40, 20] and cv.accuracy >= 0.95
    no_test = ClassifierData(data.x_train, data.y_train, data.x_val, data.y_val, data.classes)
    with pytest.raises(InvalidInputError, match="test split"):
        hybrid_test_report(no_test, model_config=TINY, fit_config=FIT)
