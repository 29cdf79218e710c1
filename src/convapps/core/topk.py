"""Streaming top-k per unit: the lecture's "nine image patches that maximise a unit's activation".

For a layer with activations ``a`` of shape ``(B, C, H, W)`` (unit = channel c), image b contributes ONE
candidate per unit, at its spatial argmax:

    v[b, c] = max_{i, j} a[b, c, i, j],      (i*, j*) = argmax_{i, j} a[b, c, i, j]

and :class:`StreamingTopK` keeps, for every unit, the k largest v over all images seen so far (so at most
one patch per image and unit), merging each batch into a ``(C, k)`` state: memory is O(C k) whatever the
number of images. Ties keep the earlier image (a stable sort). It also accumulates the mean activation
``mean_c = 1/N sum_b mean_{i,j} a[b, c, i, j]`` used to pick the most active units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from convapps.errors import InvalidInputError

DEFAULT_K = 9
"""The lecture's nine patches."""


@dataclass(frozen=True)
class SpatialMax:
    """Per image and unit: the maximum activation and where it is. All tensors ``(B, C)``."""

    values: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor


def spatial_argmax(activations: torch.Tensor) -> SpatialMax:
    """Maximum over positions and its (row, column), for activations ``(B, C, H, W)``.

    The first maximum in row-major order wins ties (``torch.max`` over the flattened ``H*W`` axis).
    """
    if activations.ndim != 4:
        raise InvalidInputError(f"expected activations (B, C, H, W), got shape {tuple(activations.shape)}")
    batch, channels, _, width = activations.shape
    values, flat = activations.reshape(batch, channels, -1).max(dim=2)
    return SpatialMax(values=values, rows=torch.div(flat, width, rounding_mode="floor"), cols=flat % width)


@dataclass(frozen=True)
class TopKResult:
    """The k best images of each unit, best first. All tensors ``(C, k)``.

    Slots not filled (fewer than k images seen) hold ``value = -inf`` and ``image = -1``.
    """

    values: torch.Tensor
    images: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor
    mean_activation: torch.Tensor
    """``(C,)`` mean activation of each unit over all positions and images seen."""
    count: int
    """Number of images seen."""

    def filled(self, unit: int) -> int:
        """How many of unit ``unit``'s k slots hold an image."""
        return int((self.images[unit] >= 0).sum())


class StreamingTopK:
    """Keep the k highest activations per unit over a stream of batches, one per image (its argmax).

    Args:
        units: number of units C (channels of the layer).
        k: how many images to keep per unit (default 9).

    Image ids must be given in strictly increasing order across all calls (e.g. the running index of
    each image in the dataset); this is what guarantees "at most one patch per image" in O(C k) memory.
    """

    def __init__(self, units: int, *, k: int = DEFAULT_K) -> None:
        if units < 1 or k < 1:
            raise InvalidInputError(f"units and k must be >= 1, got units={units}, k={k}")
        self.units, self.k = units, k
        self._values = torch.full((units, k), float("-inf"))
        self._images = torch.full((units, k), -1, dtype=torch.long)
        self._rows = torch.zeros((units, k), dtype=torch.long)
        self._cols = torch.zeros((units, k), dtype=torch.long)
        self._sum = torch.zeros(units, dtype=torch.float64)
        self._count = 0
        self._last_id = -1

    def update(self, activations: torch.Tensor, image_ids: Sequence[int] | torch.Tensor) -> None:
        """Merge a batch of activations ``(B, C, H, W)`` of images ``image_ids`` (B increasing ids)."""
        ids = torch.as_tensor(image_ids, dtype=torch.long).reshape(-1).cpu()
        if activations.ndim != 4 or activations.shape[1] != self.units or activations.shape[0] != ids.numel():
            raise InvalidInputError(
                f"expected activations (B={ids.numel()}, C={self.units}, H, W), got {tuple(activations.shape)}"
            )
        if ids.numel() == 0:
            return
        if int(ids[0]) <= self._last_id or (ids.numel() > 1 and bool((ids[1:] <= ids[:-1]).any())):
            raise InvalidInputError("image ids must be strictly increasing across updates (one entry per image)")
        acts = activations.detach().float().cpu()
        best = spatial_argmax(acts)
        self._sum += acts.mean(dim=(2, 3)).sum(dim=0).double()
        self._count += ids.numel()
        self._last_id = int(ids[-1])
        values = torch.cat([self._values, torch.nan_to_num(best.values.T, nan=float("-inf"))], dim=1)
        images = torch.cat([self._images, ids.expand(self.units, -1)], dim=1)
        rows = torch.cat([self._rows, best.rows.T], dim=1)
        cols = torch.cat([self._cols, best.cols.T], dim=1)
        order = torch.sort(values, dim=1, descending=True, stable=True).indices[:, : self.k]
        self._values = values.gather(1, order)
        self._images = images.gather(1, order)
        self._rows = rows.gather(1, order)
        self._cols = cols.gather(1, order)

    def result(self) -> TopKResult:
        """The current top-k (copies; the tracker can keep streaming)."""
        mean = (self._sum / max(self._count, 1)).float()
        return TopKResult(
            values=self._values.clone(),
            images=self._images.clone(),
            rows=self._rows.clone(),
            cols=self._cols.clone(),
            mean_activation=mean,
            count=self._count,
        )
