"""The anchors: nearest-neighbour scores agree with brute-force 1-NN, and on ECG200's official split the
three anchors reproduce the UCR archive's published figures (1-NN Euclidean 0.88, 1-NN DTW with a full
window 0.77) and MiniRocket beats both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convapps.errors import InvalidInputError
from convapps.nd.anchors import anchor_scores, euclidean_distances, nearest_neighbour_scores
from convapps.nd.ecg import ecg_from_ucr
from convapps.nd.training.anchor_runs import anchor_test_report


def test_nearest_neighbour_scores_pick_the_1nn_label() -> None:
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(30, 2, 16)), rng.normal(size=(12, 2, 16))
    y = np.arange(30) % 3
    d = euclidean_distances(test, train)
    brute = np.array([[np.linalg.norm(a - b) for b in train] for a in test])
    np.testing.assert_allclose(d, brute, rtol=1e-6, atol=1e-6)
    scores = nearest_neighbour_scores(d, y, 3)
    np.testing.assert_array_equal(scores.argmax(1), y[brute.argmin(1)])
    np.testing.assert_allclose(scores.sum(1), 1.0, rtol=1e-6)
    # a class absent from the training data gets no score
    assert np.all(nearest_neighbour_scores(d, np.zeros(30, dtype=int), 3)[:, 1:] < 1e-6)


def test_bad_inputs() -> None:
    x = np.zeros((4, 1, 10))
    with pytest.raises(InvalidInputError, match="unknown anchor 'knn'"):
        anchor_scores("knn", x, np.zeros(4, dtype=int), x, classes=2)
    with pytest.raises(InvalidInputError, match="same channels and T"):
        anchor_scores("euclidean", x, np.zeros(4, dtype=int), np.zeros((2, 1, 9)), classes=2)
    with pytest.raises(InvalidInputError, match=r"labels must be 0\.\.1"):
        anchor_scores("euclidean", x, np.array([0, 1, 2, 0]), x, classes=2)


@pytest.mark.shared_data
def test_ecg200_anchors_reproduce_published_figures(shared_data: Path) -> None:
    ucr = shared_data / "nd" / "ecg" / "ucr_ecg200"
    data = ecg_from_ucr(ucr / "ECG200_TRAIN.txt", ucr / "ECG200_TEST.txt", seed=0)
    figures = {name: anchor_test_report(data, name)[0] for name in ("euclidean", "dtw", "minirocket")}
    assert figures["euclidean"].accuracy == pytest.approx(0.88)
    assert figures["dtw"].accuracy == pytest.approx(0.77)
    assert figures["minirocket"].accuracy >= 0.88
    assert figures["minirocket"].macro_auc > figures["euclidean"].macro_auc
    assert sum(map(sum, figures["minirocket"].confusion)) == 100
