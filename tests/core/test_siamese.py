"""Siamese logistic head features and losses: hand-computed values and gradient checks."""

from __future__ import annotations

import math

import pytest
import torch

from convapps.core.siamese import (
    contrastive_loss,
    siamese_features,
    siamese_logit,
    siamese_loss,
    siamese_probability,
)
from convapps.errors import InvalidInputError

F_I = torch.tensor([[1.0, 2.0, -1.0]])
F_J = torch.tensor([[3.0, 2.0, 1.0]])


def test_abs_and_chi2_features() -> None:
    assert siamese_features(F_I, F_J, kind="abs").tolist() == [[2.0, 0.0, 2.0]]
    chi2 = siamese_features(F_I, F_J, kind="chi2")[0]
    # (1-3)^2/(1+3) = 1, 0/4 = 0, (-1-1)^2/(1+1) = 2 (absolute values in the denominator)
    assert chi2.tolist() == pytest.approx([1.0, 0.0, 2.0], abs=1e-5)


def test_chi2_equals_lecture_formula_for_nonnegative_encodings() -> None:
    a, b = torch.rand(4, 6) + 0.1, torch.rand(4, 6) + 0.1
    assert torch.allclose(siamese_features(a, b, kind="chi2"), (a - b) ** 2 / (a + b), atol=1e-5)


def test_logistic_unit_hand_computed() -> None:
    w = torch.tensor([0.5, 1.0, -0.25])
    # z = 0.5*2 + 1*0 - 0.25*2 + 0.1 = 0.6
    assert siamese_logit(siamese_features(F_I, F_J), w, 0.1).item() == pytest.approx(0.6)
    assert siamese_probability(F_I, F_J, w, 0.1).item() == pytest.approx(1 / (1 + math.exp(-0.6)))
    # BCE of logit 0.6 for y = 1: -log sigmoid(0.6)
    loss = siamese_loss(torch.tensor([0.6]), torch.tensor([1.0]))
    assert loss.item() == pytest.approx(-math.log(1 / (1 + math.exp(-0.6))))


def test_contrastive_hand_computed() -> None:
    a = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    b = torch.tensor([[0.3, 0.4], [0.3, 0.4], [3.0, 4.0]])  # d = 0.5, 0.5, 5
    same = torch.tensor([1, 0, 0])
    losses = contrastive_loss(a, b, same, margin=1.0, reduction="none")
    assert losses.tolist() == pytest.approx([0.25, 0.25, 0.0], abs=1e-6)
    assert contrastive_loss(a, b, same, margin=1.0).item() == pytest.approx(0.5 / 3, abs=1e-6)


def test_bad_inputs() -> None:
    with pytest.raises(InvalidInputError, match="pair feature"):
        siamese_features(F_I, F_J, kind="cos")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"\(B, D\)"):
        siamese_features(F_I, torch.zeros(2, 3))
    with pytest.raises(InvalidInputError, match="weights"):
        siamese_logit(torch.zeros(2, 3), torch.zeros(4), 0.0)
    with pytest.raises(InvalidInputError, match="same"):
        contrastive_loss(F_I, F_J, torch.tensor([1, 0]))


@pytest.mark.parametrize("kind", ["abs", "chi2"])
def test_siamese_gradcheck(kind: str) -> None:
    torch.manual_seed(0)
    a, b = (torch.randn(4, 5, dtype=torch.float64, requires_grad=True) for _ in range(2))
    w = torch.randn(5, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)

    def f(x: torch.Tensor, z: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return siamese_loss(siamese_logit(siamese_features(x, z, kind=kind), weight, 0.3), y)  # type: ignore[arg-type]

    assert torch.autograd.gradcheck(f, (a, b, w))


def test_contrastive_gradcheck() -> None:
    torch.manual_seed(1)
    a, b = (torch.randn(4, 3, dtype=torch.float64, requires_grad=True) for _ in range(2))
    same = torch.tensor([1, 0, 1, 0])
    assert torch.autograd.gradcheck(lambda x, z: contrastive_loss(x, z, same, margin=3.0), (a, b))
