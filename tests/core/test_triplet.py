"""Triplet loss and online mining: hand-computed values, failure cases, gradient checks."""

from __future__ import annotations

import pytest
import torch

from convapps.core.triplet import (
    batch_all_triplet_loss,
    batch_hard_triplet_loss,
    mined_triplet_loss,
    pairwise_squared_distances,
    random_triplet_loss,
    semi_hard_triplet_loss,
    triplet_loss,
)
from convapps.errors import InvalidInputError

# 1-D embeddings make distances easy to compute by hand: d(x, y) = (x - y)^2
POINTS = torch.tensor([[0.0], [0.5], [1.0], [3.0]])
LABELS = torch.tensor([0, 0, 1, 1])


def test_triplet_loss_hand_computed() -> None:
    a = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    p = torch.tensor([[1.0, 0.0], [0.1, 0.0]])
    n = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    # triplet 1: d_ap = 1, d_an = 1 -> max(1 - 1 + 0.2, 0) = 0.2; triplet 2: 0.01 - 4 + 0.2 < 0 -> 0
    assert triplet_loss(a, p, n, margin=0.2).item() == pytest.approx(0.2)
    assert triplet_loss(a, p, n, margin=0.2, reduction="mean").item() == pytest.approx(0.1)
    assert triplet_loss(a, p, n, margin=0.2, reduction="none").tolist() == pytest.approx([0.2, 0.0])
    assert triplet_loss(a, p, n, margin=0.0).item() == 0.0


def test_triplet_loss_rejects_bad_shapes_and_reduction() -> None:
    with pytest.raises(InvalidInputError, match=r"\(B, D\)"):
        triplet_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(InvalidInputError, match="reduction"):
        triplet_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3), reduction="max")  # type: ignore[arg-type]


def test_pairwise_squared_distances() -> None:
    d = pairwise_squared_distances(POINTS)
    assert d.shape == (4, 4)
    assert d[0, 3].item() == pytest.approx(9.0)
    assert d[1, 2].item() == pytest.approx(0.25)
    assert torch.all(d.diagonal() == 0)


def test_batch_hard_hand_computed() -> None:
    # anchor 0: hardest pos 1 (0.25), closest neg 2 (1.0) -> 0.25 - 1 + 1 = 0.25
    # anchor 1: pos 0 (0.25), neg 2 (0.25) -> 1.0
    # anchor 2: pos 3 (4), neg 1 (0.25) -> 4.75
    # anchor 3: pos 2 (4), neg 1 (6.25) -> 0 (inactive)
    mined = batch_hard_triplet_loss(POINTS, LABELS, margin=1.0)
    assert mined.loss.item() == pytest.approx((0.25 + 1.0 + 4.75 + 0.0) / 4)
    assert mined.active_fraction == pytest.approx(0.75)
    assert mined.num_triplets == 4


def test_batch_all_hand_computed() -> None:
    # 8 valid triplets (each of 4 anchors: 1 positive x 2 negatives); margin 1
    # a0p1: n2: .25-1+1=.25, n3: .25-9+1<0 ; a1p0: n2: .25-.25+1=1, n3: .25-6.25+1<0
    # a2p3: n0: 4-1+1=4, n1: 4-.25+1=4.75 ; a3p2: n0: 4-9+1<0, n1: 4-6.25+1<0
    mined = batch_all_triplet_loss(POINTS, LABELS, margin=1.0)
    assert mined.num_triplets == 8
    assert mined.active_fraction == pytest.approx(4 / 8)
    assert mined.loss.item() == pytest.approx((0.25 + 1 + 4 + 4.75) / 4)


def test_semi_hard_hand_computed() -> None:
    # a0p1 (d=.25): negatives farther than .25: n2 (1), n3 (9) -> closest n2: .25 - 1 + 1 = .25
    # a1p0 (d=.25): negatives > .25: n3 (6.25) only (n2 is .25, not farther) -> .25 - 6.25 + 1 < 0 -> 0
    # a2p3 (d=4): none farther than 4 (1, .25) -> farthest n0 (1): 4 - 1 + 1 = 4
    # a3p2 (d=4): n1 (6.25), n0 (9) -> n1: 4 - 6.25 + 1 = 0 (clamped: -1.25)
    mined = semi_hard_triplet_loss(POINTS, LABELS, margin=1.0)
    assert mined.num_triplets == 4
    assert mined.loss.item() == pytest.approx((0.25 + 0 + 4 + 0) / 4)
    assert mined.active_fraction == pytest.approx(0.5)


def test_random_mining_is_seeded_and_bounded() -> None:
    torch.manual_seed(0)
    emb = torch.nn.functional.normalize(torch.randn(12, 8), dim=1)
    labels = torch.arange(4).repeat_interleave(3)
    first = random_triplet_loss(emb, labels, generator=torch.Generator().manual_seed(1))
    again = random_triplet_loss(emb, labels, generator=torch.Generator().manual_seed(1))
    assert first.loss.item() == again.loss.item()
    assert first.num_triplets == 12 * 2
    hard = batch_hard_triplet_loss(emb, labels)
    # the hardest triplet of each anchor bounds any random triplet of that anchor
    assert hard.loss.item() >= first.loss.item() - 1e-6


def test_hard_mining_finds_more_active_triplets_than_random() -> None:
    torch.manual_seed(3)
    centers = torch.randn(8, 16) * 2
    labels = torch.arange(8).repeat_interleave(4)
    emb = torch.nn.functional.normalize(centers[labels] + 0.8 * torch.randn(32, 16), dim=1)
    hard = mined_triplet_loss(emb, labels, mining="hard", margin=0.2)
    rand = mined_triplet_loss(emb, labels, mining="random", margin=0.2, generator=torch.Generator().manual_seed(0))
    assert hard.active_fraction > rand.active_fraction


def test_mining_without_positives_gives_zero_loss() -> None:
    emb = torch.randn(3, 4, requires_grad=True)
    labels = torch.tensor([0, 1, 2])
    for mining in ("all", "hard", "semi-hard", "random"):
        mined = mined_triplet_loss(emb, labels, mining=mining)  # type: ignore[arg-type]
        assert mined.num_triplets == 0 and mined.loss.item() == 0.0


def test_mining_rejects_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="labels"):
        batch_hard_triplet_loss(torch.zeros(4, 2), torch.zeros(3))
    with pytest.raises(InvalidInputError, match="mining"):
        mined_triplet_loss(torch.zeros(4, 2), LABELS, mining="easy")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="margin"):
        mined_triplet_loss(torch.zeros(4, 2), LABELS, mining="hard", margin=-1)


@pytest.mark.parametrize("mining", ["all", "hard", "semi-hard"])
def test_mined_losses_gradcheck(mining: str) -> None:
    torch.manual_seed(0)
    emb = torch.randn(8, 3, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    assert torch.autograd.gradcheck(lambda e: mined_triplet_loss(e, labels, mining=mining, margin=2.0).loss, (emb,))


def test_triplet_loss_gradcheck() -> None:
    torch.manual_seed(0)
    a, p, n = (torch.randn(5, 4, dtype=torch.float64, requires_grad=True) for _ in range(3))
    assert torch.autograd.gradcheck(lambda x, y, z: triplet_loss(x, y, z, margin=1.5), (a, p, n))
