"""Face verification as binary classification (lecture: "Face verification and binary classification").

A Siamese network runs the *same* encoder f on both images of a pair and a logistic unit on the
element-wise difference of the two encodings:

    y_hat = sigmoid( sum_k w_k |f(x_i)_k - f(x_j)_k| + b )

or, the lecture's chi-square variant, with features ``(f(x_i)_k - f(x_j)_k)^2 / (f(x_i)_k + f(x_j)_k)``.
``y = 1`` means "same person". The contrastive loss (Hadsell, Chopra, LeCun 2006) is included for
comparison with the triplet loss: ``L = y d^2 + (1 - y) max(m - d, 0)^2`` with ``d = ||f(x_i) - f(x_j)||``.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
import torch.nn.functional as F

from convapps.errors import InvalidInputError

PairFeature = Literal["abs", "chi2"]
PAIR_FEATURES: tuple[str, ...] = get_args(PairFeature)
CHI2_EPS = 1e-6


def _check_pair(f_i: torch.Tensor, f_j: torch.Tensor) -> None:
    if f_i.ndim != 2 or f_i.shape != f_j.shape:
        raise InvalidInputError(f"pair encodings must both be (B, D), got {tuple(f_i.shape)} and {tuple(f_j.shape)}")


def siamese_features(f_i: torch.Tensor, f_j: torch.Tensor, *, kind: PairFeature = "abs") -> torch.Tensor:
    """Per-dimension pair features ``(B, D)`` of encodings ``f_i``, ``f_j`` ``(B, D)``.

    ``"abs"``: ``|f_i - f_j|``. ``"chi2"``: ``(f_i - f_j)^2 / (|f_i| + |f_j| + eps)``. Departure from the
    lecture: its denominator ``f_i + f_j`` assumes non-negative encodings (after a ReLU); 128-d face
    encodings have signed components, so absolute values (and ``eps = 1e-6``) keep it positive and
    finite. For non-negative encodings the two agree.
    """
    _check_pair(f_i, f_j)
    diff = f_i - f_j
    if kind == "abs":
        return diff.abs()
    if kind == "chi2":
        return diff.pow(2) / (f_i.abs() + f_j.abs() + CHI2_EPS)
    raise InvalidInputError(f"unknown pair feature {kind!r}: use one of {', '.join(PAIR_FEATURES)}")


def siamese_logit(features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | float) -> torch.Tensor:
    """``z = sum_k w_k x_k + b`` for features ``(B, D)``, weights ``(D,)``; returns ``(B,)`` logits."""
    if features.ndim != 2 or weight.shape != (features.shape[1],):
        raise InvalidInputError(
            f"features (B, D) need weights (D,), got {tuple(features.shape)} and {tuple(weight.shape)}"
        )
    return features @ weight + bias


def siamese_probability(
    f_i: torch.Tensor, f_j: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | float, *, kind: PairFeature = "abs"
) -> torch.Tensor:
    """The lecture's ``y_hat = sigmoid(sum_k w_k |f(x_i)_k - f(x_j)_k| + b)``, ``(B,)`` in (0, 1)."""
    return torch.sigmoid(siamese_logit(siamese_features(f_i, f_j, kind=kind), weight, bias))


def siamese_loss(logits: torch.Tensor, same: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy ``-[y log y_hat + (1 - y) log(1 - y_hat)]`` of logits ``(B,)`` against
    ``same`` ``(B,)`` in {0, 1} (computed from logits for numerical stability)."""
    if logits.shape != same.shape:
        raise InvalidInputError(f"logits {tuple(logits.shape)} and labels {tuple(same.shape)} differ in shape")
    return F.binary_cross_entropy_with_logits(logits, same.to(logits.dtype))


def contrastive_loss(
    f_i: torch.Tensor,
    f_j: torch.Tensor,
    same: torch.Tensor,
    *,
    margin: float = 1.0,
    reduction: Literal["sum", "mean", "none"] = "mean",
) -> torch.Tensor:
    """Contrastive loss ``y d^2 + (1 - y) max(m - d, 0)^2``, ``d = ||f_i - f_j||`` (Euclidean, not squared).

    Shapes: encodings ``(B, D)``, ``same`` ``(B,)`` in {0, 1}; ``reduction="none"`` returns ``(B,)``.
    A small epsilon inside the square root keeps the gradient finite for identical encodings.
    """
    _check_pair(f_i, f_j)
    if same.shape != (f_i.shape[0],):
        raise InvalidInputError(f"same must be (B,) = ({f_i.shape[0]},), got {tuple(same.shape)}")
    y = same.to(f_i.dtype)
    d2 = (f_i - f_j).pow(2).sum(dim=1)
    d = torch.sqrt(d2 + 1e-12)
    losses = y * d2 + (1 - y) * torch.clamp(margin - d, min=0.0).pow(2)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.mean()
    raise InvalidInputError(f"unknown reduction {reduction!r}: use 'sum', 'mean' or 'none'")
