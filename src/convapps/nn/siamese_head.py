"""The Siamese logistic head: ``y_hat = sigmoid(sum_k w_k x_k + b)`` on pair features of two encodings.

Both encodings come from the same (shared, here frozen and cached) encoder; ``x_k`` is
``|f(x_i)_k - f(x_j)_k|`` (``kind="abs"``) or the chi-square feature (``kind="chi2"``), see
:mod:`convapps.core.siamese`.
"""

from __future__ import annotations

import torch
from torch import nn

from convapps.core.siamese import PairFeature, siamese_features, siamese_logit


class SiameseHead(nn.Module):
    """Logistic unit over pair features. ``forward(f_i, f_j)`` with ``(B, dim)`` encodings -> ``(B,)`` logits
    (apply ``torch.sigmoid`` for the probability that the two faces are the same person).

    The weights start at ``-1`` and the bias at ``+1`` (same person when the summed feature is small),
    a sensible start for both feature kinds that training refines.
    """

    def __init__(self, dim: int = 128, *, kind: PairFeature = "abs") -> None:
        super().__init__()
        self.dim, self.kind = dim, kind
        self.weight = nn.Parameter(torch.full((dim,), -1.0))
        self.bias = nn.Parameter(torch.ones(()))

    def forward(self, f_i: torch.Tensor, f_j: torch.Tensor) -> torch.Tensor:
        """Logits ``(B,)`` of "same person" for encodings ``f_i``, ``f_j`` ``(B, dim)``."""
        return siamese_logit(siamese_features(f_i, f_j, kind=self.kind), self.weight, self.bias)
