"""The classifiers a time-series ConvNet is measured against, from ``aeon`` (imported on first use):

* ``minirocket``: MiniRocket (Dempster et al. 2021: 9,996 features from fixed random dilated convolution
  kernels, proportion of positive values) + a standardising ridge classifier with cross-validated alpha,
  the fast state of the art of the UCR archive;
* ``dtw``: 1-nearest neighbour under dynamic time warping (full warping window);
* ``euclidean``: 1-nearest neighbour under the Euclidean distance, the archive's baseline.

Every anchor returns class scores ``(N, K)`` in [0, 1] whose argmax is its prediction, so accuracy, AUC
and the confusion matrix come from the same :func:`~convapps.training.metrics.classification_report` as
the ConvNets'. For 1-NN the score of a class is a softmax of minus the distance to its nearest member.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from convapps.errors import InvalidInputError

AnchorName = Literal["minirocket", "dtw", "euclidean"]
ANCHORS: tuple[AnchorName, ...] = ("minirocket", "dtw", "euclidean")


def _softmax(scores: np.ndarray) -> np.ndarray:
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _check(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, classes: int) -> None:
    if x_train.ndim != 3 or x_test.ndim != 3 or x_train.shape[1:] != x_test.shape[1:]:
        raise InvalidInputError(
            f"signals must be (N, channels, T) with the same channels and T, got {x_train.shape} and {x_test.shape}"
        )
    if len(x_train) != len(y_train) or len(x_train) == 0:
        raise InvalidInputError(f"{len(x_train)} training signals but {len(y_train)} labels")
    if classes < 2 or int(np.max(y_train)) >= classes or int(np.min(y_train)) < 0:
        raise InvalidInputError(f"labels must be 0..{classes - 1}")


def nearest_neighbour_scores(distances: np.ndarray, y_train: np.ndarray, classes: int) -> np.ndarray:
    """Scores ``(N_test, K)`` from a distance matrix ``(N_test, N_train)``: softmax over classes of minus the
    distance to each class's nearest training signal (in units of the median such distance); the argmax is
    the 1-NN prediction."""
    nearest = np.full((len(distances), classes), np.inf)
    for k in range(classes):
        members = y_train == k
        if members.any():
            nearest[:, k] = distances[:, members].min(axis=1)
    finite = nearest[np.isfinite(nearest)]
    scale = float(np.median(finite)) if finite.size and np.median(finite) > 0 else 1.0
    return _softmax(-np.where(np.isfinite(nearest), nearest, 1e12) / scale)


def euclidean_distances(x_test: np.ndarray, x_train: np.ndarray) -> np.ndarray:
    """``||a - b||`` between every test and training signal (flattened over channels and time)."""
    a = x_test.reshape(len(x_test), -1).astype(np.float64)
    b = x_train.reshape(len(x_train), -1).astype(np.float64)
    squared = (a**2).sum(1)[:, None] - 2 * a @ b.T + (b**2).sum(1)[None, :]
    return np.sqrt(np.maximum(squared, 0.0))


def anchor_scores(
    name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, *, classes: int, seed: int = 0
) -> np.ndarray:
    """Fit anchor ``name`` on ``(x_train, y_train)`` (signals ``(N, C, T)``, labels 0..K-1) and return its
    class scores on ``x_test``, ``(N_test, K)``. ``seed`` fixes MiniRocket's random kernels."""
    if name not in ANCHORS:
        raise InvalidInputError(f"unknown anchor {name!r}: use one of {', '.join(ANCHORS)}")
    _check(x_train, y_train, x_test, classes)
    y = np.asarray(y_train, dtype=np.int64)
    if name == "euclidean":
        return nearest_neighbour_scores(euclidean_distances(x_test, x_train), y, classes)
    a, b = np.ascontiguousarray(x_train, dtype=np.float64), np.ascontiguousarray(x_test, dtype=np.float64)
    if name == "dtw":
        from aeon.distances import dtw_pairwise_distance

        return nearest_neighbour_scores(dtw_pairwise_distance(b, a), y, classes)
    return _minirocket_scores(a, y, b, classes, seed)


def _minirocket_scores(x_train: np.ndarray, y: np.ndarray, x_test: np.ndarray, classes: int, seed: int) -> np.ndarray:
    from aeon.transformations.collection.convolution_based import MiniRocket
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.preprocessing import StandardScaler

    transform = MiniRocket(random_state=seed, n_jobs=1)
    features = transform.fit_transform(x_train)
    scaler = StandardScaler().fit(features)
    present = np.unique(y)
    ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)).fit(scaler.transform(features), y)
    decision = ridge.decision_function(scaler.transform(transform.transform(x_test)))
    if decision.ndim == 1:  # two classes: the score of the second one
        decision = np.stack([-decision, decision], axis=1)
    scores = np.full((len(x_test), classes), -1e9)
    scores[:, present] = decision
    return _softmax(scores)
