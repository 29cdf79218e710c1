"""Distances between face encodings, in the lecture's form.

The lecture's face verification compares two images through their encodings f(x), vectors of D numbers
(D = 128 for dlib's ResNet):

    d(img1, img2) = || f(img1) - f(img2) ||_2^2          ("same person" when d <= tau)

This is the SQUARED Euclidean (L2) distance, and tau is in the same squared units. Users of the
``face_recognition`` library know the plain L2 distance ``||f(img1) - f(img2)||_2`` and its threshold
0.6; the two are related by squaring, so 0.6 L2 is 0.36 squared (:func:`l2_to_squared`), and since
squaring is monotonic on non-negative numbers both give the same decisions.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from convapps.errors import InvalidInputError, ShapeError


def squared_l2_distance(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """The lecture's ``d(a, b) = ||a - b||_2^2``, summed over the last axis.

    Shapes: ``a`` is ``(..., D)`` and ``b`` is ``(..., D)``; the leading axes broadcast (numpy rules), so
    ``(D,)`` vs ``(D,)`` gives a scalar array ``()``, and ``(N, D)`` vs ``(D,)`` gives ``(N,)``.
    Computed in float64 as the sum of squared differences (exact for identical inputs: 0).

    Raises:
        ShapeError: the last axes differ or an input has no axis at all.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"encodings must have a last axis of size D, got shapes {x.shape} and {y.shape}")
    if x.shape[-1] != y.shape[-1]:
        raise ShapeError(f"encodings have different sizes D: {x.shape[-1]} and {y.shape[-1]}")
    diff = x - y
    return np.asarray(np.einsum("...d,...d->...", diff, diff))


def pairwise_squared_l2(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """All pairwise squared L2 distances: ``out[i, j] = ||A_i - B_j||_2^2``.

    Shapes: ``A`` is ``(N, D)``, ``B`` is ``(M, D)``, the result ``(N, M)`` (float64, clipped at 0).
    Uses the expansion ``||a||^2 + ||b||^2 - 2 a.b`` (one matrix product), accurate to ~1e-12 for
    encodings of norm ~1.

    Raises:
        ShapeError: an input is not 2-D or the sizes D differ.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2:
        raise ShapeError(f"expected (N, D) and (M, D) arrays, got shapes {x.shape} and {y.shape}")
    if x.shape[1] != y.shape[1]:
        raise ShapeError(f"encodings have different sizes D: {x.shape[1]} and {y.shape[1]}")
    sq = (x * x).sum(axis=1)[:, None] + (y * y).sum(axis=1)[None, :] - 2.0 * (x @ y.T)
    clipped: NDArray[np.float64] = np.maximum(sq, 0.0)
    return clipped


def _check_threshold(t: float, name: str) -> float:
    value = float(t)
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"{name} must be a finite number >= 0, got {t}")
    return value


def l2_to_squared(t: float) -> float:
    """Map a plain L2 threshold (face_recognition's ``tolerance``) to the lecture's squared tau: ``t^2``.

    ``l2_to_squared(0.6) == 0.36``: ``||a - b|| <= 0.6`` iff ``||a - b||^2 <= 0.36``.
    """
    return _check_threshold(t, "an L2 threshold") ** 2


def squared_to_l2(t: float) -> float:
    """Map the lecture's squared tau to a plain L2 threshold: ``sqrt(tau)`` (0.36 -> 0.6)."""
    return math.sqrt(_check_threshold(t, "a squared threshold tau"))
