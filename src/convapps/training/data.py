"""Batches for the fit loop: tensors or datasets become seeded DataLoaders; one place seeds everything."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import TypeAlias

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from convapps.errors import InvalidInputError

Batch: TypeAlias = Sequence[torch.Tensor]
Batches: TypeAlias = DataLoader | Dataset | tuple[torch.Tensor, ...] | Iterable[Batch]
"""What :func:`convapps.training.fit` accepts as training or validation data: a tuple of tensors with
the same first dimension (``(x, y)``, ``(anchor, positive, negative)``...), a torch ``Dataset`` whose
items are tuples of tensors, a ``DataLoader``, or any re-iterable of batches (tuples of tensors)."""


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; returns a torch generator seeded with ``seed`` for shuffling."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def as_batches(
    data: Batches, *, batch_size: int, shuffle: bool, generator: torch.Generator | None, drop_last: bool = False
) -> Iterable[Batch]:
    """``data`` as a re-iterable of batches; tensors and datasets are wrapped in a ``DataLoader``."""
    if isinstance(data, tuple):
        if not data or not all(isinstance(t, torch.Tensor) for t in data):
            raise InvalidInputError("tensor data must be a non-empty tuple of tensors, e.g. (x, y)")
        if len({len(t) for t in data}) != 1:
            raise InvalidInputError(f"tensors have different lengths: {[len(t) for t in data]}")
        data = TensorDataset(*data)
    if isinstance(data, Dataset) and not isinstance(data, DataLoader):
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator, drop_last=drop_last)
    return data


def move_batch(batch: Batch, device: torch.device) -> tuple[torch.Tensor, ...]:
    """The batch's tensors on ``device`` (a no-op on CPU)."""
    return tuple(t.to(device) for t in batch)
