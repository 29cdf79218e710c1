"""The triplet loss and online triplet mining (lecture: "Triplet loss", "Choosing the triplets A, P, N").

For an anchor A, a positive P (same person) and a negative N (another person), with encodings f(.) and
``d(x, y) = ||f(x) - f(y)||^2`` (squared Euclidean distance, as in the lecture):

    L(A, P, N) = max(d(A, P) - d(A, N) + alpha, 0),        J = sum over triplets of L

Random triplets are mostly "easy" (``d(A, P) + alpha <= d(A, N)``, zero loss, zero gradient), so triplets
are *mined* online inside a batch of embeddings ``(B, D)`` with identity labels ``(B,)``:

- ``"all"`` (batch-all): every valid (a, p, n) of the batch; the loss averages the non-zero ones.
- ``"hard"`` (batch-hard, Hermans et al. 2017): per anchor, the farthest positive and the closest negative.
- ``"semi-hard"`` (FaceNet, Schroff et al. 2015): per (a, p) pair, the closest negative that is still
  farther than the positive, ``d(a, p) < d(a, n)``; when there is none, the farthest negative
  (the convention of TensorFlow Addons' ``triplet_semihard_loss``).
- ``"random"``: per (a, p) pair, a uniformly random negative (the baseline the lecture warns against).

Every mining function returns a :class:`MinedTriplets` with the loss and the fraction of *active*
triplets (non-zero loss), the figure that shows why hard triplets matter.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, get_args

import torch

from convapps.errors import InvalidInputError

Reduction = Literal["sum", "mean", "none"]
Mining = Literal["all", "hard", "semi-hard", "random"]
MINING_STRATEGIES: tuple[str, ...] = get_args(Mining)
DEFAULT_MARGIN = 0.2
"""alpha of FaceNet for L2-normalised encodings."""


class MinedTriplets(NamedTuple):
    """Result of online mining: ``loss`` (scalar, differentiable), ``active_fraction`` (share of mined
    triplets with non-zero loss, a float in [0, 1]) and ``num_triplets`` (how many were mined)."""

    loss: torch.Tensor
    active_fraction: float
    num_triplets: int


def _reduce(values: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    if reduction == "sum":
        return values.sum()
    if reduction == "mean":
        return values.mean() if values.numel() else values.sum()
    if reduction == "none":
        return values
    raise InvalidInputError(f"unknown reduction {reduction!r}: use 'sum', 'mean' or 'none'")


def triplet_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    *,
    margin: float = DEFAULT_MARGIN,
    reduction: Reduction = "sum",
) -> torch.Tensor:
    """The lecture's triplet loss on encodings ``(B, D)`` of B triplets.

    ``L_b = max(||f(A_b) - f(P_b)||^2 - ||f(A_b) - f(N_b)||^2 + alpha, 0)``; ``reduction="sum"`` gives the
    lecture's cost J (``"mean"`` divides by B, ``"none"`` returns the ``(B,)`` losses).
    """
    if anchor.ndim != 2 or anchor.shape != positive.shape or anchor.shape != negative.shape:
        raise InvalidInputError(
            f"anchor, positive and negative must all be (B, D), got {tuple(anchor.shape)}, "
            f"{tuple(positive.shape)}, {tuple(negative.shape)}"
        )
    d_ap = (anchor - positive).pow(2).sum(dim=1)
    d_an = (anchor - negative).pow(2).sum(dim=1)
    return _reduce(torch.clamp(d_ap - d_an + margin, min=0.0), reduction)


def pairwise_squared_distances(embeddings: torch.Tensor) -> torch.Tensor:
    """``D[i, j] = ||e_i - e_j||^2`` for embeddings ``(B, D)``; returns ``(B, B)`` with an exact zero diagonal.

    Computed from differences (not the ``|a|^2 + |b|^2 - 2ab`` expansion) so it is never negative and
    its gradient is exact.
    """
    if embeddings.ndim != 2:
        raise InvalidInputError(f"embeddings must be (B, D), got shape {tuple(embeddings.shape)}")
    diff = embeddings.unsqueeze(1) - embeddings.unsqueeze(0)
    return diff.pow(2).sum(dim=2)


def _masks(labels: torch.Tensor, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, B)`` boolean masks of valid positives (same label, not itself) and negatives (other label)."""
    if labels.ndim != 1 or len(labels) != batch:
        raise InvalidInputError(f"labels must be (B,) with B = {batch}, got shape {tuple(labels.shape)}")
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    eye = torch.eye(batch, dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


def _finish(losses: torch.Tensor, reduction: Reduction) -> MinedTriplets:
    count = int(losses.numel())
    active = int((losses > 0).sum())
    return MinedTriplets(_reduce(losses, reduction), active / count if count else 0.0, count)


def batch_all_triplet_loss(
    embeddings: torch.Tensor, labels: torch.Tensor, *, margin: float = DEFAULT_MARGIN
) -> MinedTriplets:
    """Batch-all mining: every valid triplet (a, p, n) of the batch, ``(B, D)`` embeddings, ``(B,)`` labels.

    The loss is the mean over the *active* triplets only (the mean over all would be swamped by easy
    zeros), i.e. ``J / #{L > 0}``; it is 0 when no triplet is active.
    """
    dist = pairwise_squared_distances(embeddings)
    pos, neg = _masks(labels, len(embeddings))
    valid = pos.unsqueeze(2) & neg.unsqueeze(1)  # [a, p, n]
    losses = (dist.unsqueeze(2) - dist.unsqueeze(1) + margin).clamp(min=0.0)[valid]
    mined = _finish(losses, "sum")
    n_active = round(mined.active_fraction * mined.num_triplets)
    return MinedTriplets(mined.loss / max(n_active, 1), mined.active_fraction, mined.num_triplets)


def batch_hard_triplet_loss(
    embeddings: torch.Tensor, labels: torch.Tensor, *, margin: float = DEFAULT_MARGIN, reduction: Reduction = "mean"
) -> MinedTriplets:
    """Batch-hard mining: for each anchor with a positive and a negative in the batch,
    ``max(max_p d(a, p) - min_n d(a, n) + alpha, 0)``; shapes ``(B, D)`` and ``(B,)``."""
    dist = pairwise_squared_distances(embeddings)
    pos, neg = _masks(labels, len(embeddings))
    usable = pos.any(dim=1) & neg.any(dim=1)
    hardest_pos = dist.masked_fill(~pos, float("-inf")).max(dim=1).values
    hardest_neg = dist.masked_fill(~neg, float("inf")).min(dim=1).values
    losses = (hardest_pos[usable] - hardest_neg[usable] + margin).clamp(min=0.0)
    return _finish(losses, reduction)


def semi_hard_triplet_loss(
    embeddings: torch.Tensor, labels: torch.Tensor, *, margin: float = DEFAULT_MARGIN, reduction: Reduction = "mean"
) -> MinedTriplets:
    """FaceNet's semi-hard mining: for every (a, p) pair, the closest negative with ``d(a, n) > d(a, p)``
    (inside the margin or not); if no negative is farther than the positive, the farthest negative.
    Shapes ``(B, D)`` and ``(B,)``; one triplet per valid (a, p) pair."""
    dist = pairwise_squared_distances(embeddings)
    pos, neg = _masks(labels, len(embeddings))
    d_ap = dist.unsqueeze(2)  # [a, p, 1]
    d_an = dist.unsqueeze(1)  # [a, 1, n]
    farther = neg.unsqueeze(1) & (d_an > d_ap)  # [a, p, n]
    semi = d_an.expand_as(farther).masked_fill(~farther, float("inf")).min(dim=2).values
    easiest = dist.masked_fill(~neg, float("-inf")).max(dim=1).values.unsqueeze(1).expand_as(semi)
    chosen = torch.where(farther.any(dim=2), semi, easiest)
    valid = pos & neg.any(dim=1, keepdim=True)
    losses = (dist[valid] - chosen[valid] + margin).clamp(min=0.0)
    return _finish(losses, reduction)


def random_triplet_loss(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    *,
    margin: float = DEFAULT_MARGIN,
    reduction: Reduction = "mean",
    generator: torch.Generator | None = None,
) -> MinedTriplets:
    """No mining: for every (a, p) pair a uniformly random negative of the batch (``generator`` seeds it).
    Shapes ``(B, D)`` and ``(B,)``."""
    dist = pairwise_squared_distances(embeddings)
    batch = len(embeddings)
    pos, neg = _masks(labels, batch)
    has_neg = neg.any(dim=1)
    weights = torch.where(has_neg.unsqueeze(1), neg.float(), torch.ones_like(dist))  # rows without: unused
    picks = torch.multinomial(weights.cpu().repeat_interleave(batch, dim=0), 1, generator=generator)
    picks = picks.to(dist.device).view(batch, batch)  # [a, p] -> index of a random negative of a
    d_an = dist.gather(1, picks)
    valid = pos & has_neg.unsqueeze(1)
    losses = (dist - d_an + margin).clamp(min=0.0)[valid]
    return _finish(losses, reduction)


def mined_triplet_loss(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    *,
    mining: Mining,
    margin: float = DEFAULT_MARGIN,
    generator: torch.Generator | None = None,
) -> MinedTriplets:
    """Dispatch to the mining strategy ``mining`` (``"all"``, ``"hard"``, ``"semi-hard"``, ``"random"``)."""
    if margin < 0:
        raise InvalidInputError(f"margin alpha must be >= 0, got {margin}")
    if mining == "all":
        return batch_all_triplet_loss(embeddings, labels, margin=margin)
    if mining == "hard":
        return batch_hard_triplet_loss(embeddings, labels, margin=margin)
    if mining == "semi-hard":
        return semi_hard_triplet_loss(embeddings, labels, margin=margin)
    if mining == "random":
        return random_triplet_loss(embeddings, labels, margin=margin, generator=generator)
    raise InvalidInputError(f"unknown mining {mining!r}: use one of {', '.join(MINING_STRATEGIES)}")
