"""Style-transfer costs against hand computation, failure cases and gradcheck."""

from __future__ import annotations

import pytest
import torch

from convapps.core.style import (
    content_cost,
    gram_matrix,
    layered_style_cost,
    style_cost,
    style_cost_from_grams,
    total_cost,
    total_variation,
)
from convapps.errors import InvalidInputError, ShapeError

# a[l] with n_C = 2 channels on a 1x2 grid: channel 0 = [1, 2], channel 1 = [3, 4]
A = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])


def test_gram_matrix_by_hand() -> None:
    # G_00 = 1+4 = 5, G_01 = 1*3 + 2*4 = 11, G_11 = 9 + 16 = 25
    assert torch.equal(gram_matrix(A), torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]))
    assert torch.allclose(gram_matrix(A, per_position=True), torch.tensor([[[2.5, 5.5], [5.5, 12.5]]]))
    assert gram_matrix(torch.rand(3, 4, 5, 6)).shape == (3, 4, 4)


def test_content_cost_by_hand() -> None:
    g = torch.tensor([[[[0.0, 2.0]], [[3.0, 2.0]]]])  # differences 1, 0, 0, 2 -> squared sum 5
    assert content_cost(A, g).item() == pytest.approx(2.5)
    # normalised: 5 / (4 * 1 * 2 * 2) = 5 / 16
    assert content_cost(A, g, normalization="normalized").item() == pytest.approx(5 / 16)
    assert content_cost(A, A).item() == 0.0


def test_style_cost_by_hand() -> None:
    g = torch.tensor([[[[1.0, 0.0]], [[0.0, 4.0]]]])
    # G(G) = [[1, 0], [0, 16]]; G(S) - G(G) = [[4, 11], [11, 9]]; sum of squares = 16+121+121+81 = 339
    # 1 / (2 * n_H n_W n_C)^2 = 1 / (2*1*2*2)^2 = 1/64
    assert style_cost(A, g).item() == pytest.approx(339 / 64)
    assert style_cost_from_grams(gram_matrix(A, per_position=True), g).item() == pytest.approx(339 / 64)


def test_style_cost_from_grams_equals_lecture_formula_for_same_sizes() -> None:
    torch.manual_seed(0)
    a_s, a_g = torch.randn(1, 5, 4, 3, dtype=torch.float64), torch.randn(1, 5, 4, 3, dtype=torch.float64)
    gram_s = gram_matrix(a_s, per_position=True)
    assert style_cost_from_grams(gram_s, a_g).item() == pytest.approx(style_cost(a_s, a_g).item(), rel=1e-12)


def test_layered_style_cost_and_total() -> None:
    torch.manual_seed(1)
    acts_s = {"l1": torch.randn(1, 2, 3, 3), "l2": torch.randn(1, 4, 2, 2)}
    acts_g = {"l1": torch.randn(1, 2, 3, 3), "l2": torch.randn(1, 4, 2, 2)}
    grams = {k: gram_matrix(v, per_position=True) for k, v in acts_s.items()}
    expected = 0.3 * style_cost(acts_s["l1"], acts_g["l1"]) + 0.7 * style_cost(acts_s["l2"], acts_g["l2"])
    got = layered_style_cost(grams, acts_g, {"l1": 0.3, "l2": 0.7})
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    j = total_cost(torch.tensor(2.0), torch.tensor(3.0), alpha=10.0, beta=100.0)
    assert j.item() == 320.0
    j_tv = total_cost(torch.tensor(2.0), torch.tensor(3.0), alpha=1, beta=1, j_tv=torch.tensor(4.0), tv_weight=0.5)
    assert j_tv.item() == 7.0
    with pytest.raises(InvalidInputError, match="l3"):
        layered_style_cost(grams, acts_g, {"l3": 1.0})


def test_total_variation_by_hand() -> None:
    x = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])
    # vertical diffs 2, 3 -> 4 + 9; horizontal 1, 2 -> 1 + 4; total 18 over 4 pixels
    assert total_variation(x).item() == pytest.approx(18 / 4)
    assert total_variation(torch.ones(1, 3, 5, 5)).item() == 0.0


def test_shape_errors() -> None:
    with pytest.raises(ShapeError):
        gram_matrix(torch.rand(2, 3))
    with pytest.raises(ShapeError):
        content_cost(torch.rand(1, 2, 3, 3), torch.rand(1, 2, 3, 4))
    with pytest.raises(ShapeError, match="style_cost_from_grams"):
        style_cost(torch.rand(1, 2, 3, 3), torch.rand(1, 2, 4, 4))
    with pytest.raises(ShapeError):
        style_cost_from_grams(torch.rand(1, 3, 3), torch.rand(1, 2, 4, 4))
    with pytest.raises(InvalidInputError):
        content_cost(A, A, normalization="mean")  # type: ignore[arg-type]


def test_gradcheck() -> None:
    torch.manual_seed(2)
    a_c = torch.randn(1, 3, 2, 3, dtype=torch.float64)
    a_g = torch.randn(1, 3, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda g: content_cost(a_c, g), (a_g,))
    assert torch.autograd.gradcheck(lambda g: content_cost(a_c, g, normalization="normalized"), (a_g,))
    assert torch.autograd.gradcheck(lambda g: style_cost(a_c, g), (a_g,))
    assert torch.autograd.gradcheck(gram_matrix, (a_g,))
    assert torch.autograd.gradcheck(total_variation, (a_g,))
    # analytic gradient of the lecture's content cost: dJ/da_G = a_G - a_C
    content_cost(a_c, a_g).backward()
    assert a_g.grad is not None and torch.allclose(a_g.grad, a_g.detach() - a_c)
