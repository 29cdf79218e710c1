"""Tensors for the 1D and 3D ConvNets: normalisation, stratified splits and folds, volume flips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch.utils.data import Dataset

from convapps.errors import InvalidInputError

Normalize = Literal["none", "zscore", "unit"]
"""``zscore``: each sample (each lead) to mean 0, std 1 (UCR convention); ``unit``: uint8 voxels / 255,
other volumes min-max scaled to [0, 1]; ``none``: as is."""


@dataclass(frozen=True)
class ClassifierData:
    """Normalised channels-first arrays: ``x_*`` ``(N, C, *spatial)`` float32, ``y_*`` ``(N,)`` int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: tuple[str, ...]
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """``(C, *spatial)`` of one sample."""
        return tuple(int(v) for v in self.x_train.shape[1:])


def normalize(x: np.ndarray, mode: Normalize) -> np.ndarray:
    """Normalise a batch ``(N, C, *spatial)`` sample by sample; returns float32."""
    data = np.asarray(x, dtype=np.float32)
    if mode == "none":
        return data
    axes = tuple(range(2, data.ndim))
    if mode == "zscore":
        mean = data.mean(axis=axes, keepdims=True)
        std = data.std(axis=axes, keepdims=True)
        return (data - mean) / np.where(std > 1e-8, std, 1.0)
    if mode == "unit":
        if np.asarray(x).dtype == np.uint8:
            return data / 255.0
        lo = data.min(axis=axes, keepdims=True)
        span = data.max(axis=axes, keepdims=True) - lo
        return (data - lo) / np.where(span > 1e-8, span, 1.0)
    raise InvalidInputError(f"unknown normalisation {mode!r}: use 'none', 'zscore' or 'unit'")


def stratified_split(y: np.ndarray, fraction: float, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, val)`` with about ``fraction`` of each class in ``val`` (at least one when the
    class has two or more samples)."""
    if not 0.0 < fraction < 1.0:
        raise InvalidInputError(f"validation fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    val: list[int] = []
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        take = max(round(len(idx) * fraction), 1) if len(idx) > 1 else 0
        val.extend(idx[:take].tolist())
    val_idx = np.sort(np.asarray(val, dtype=np.int64))
    return np.setdiff1d(np.arange(len(y)), val_idx), val_idx


def stratified_folds(y: np.ndarray, k: int, *, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` folds ``(train, test)``; each class is dealt round-robin over the folds after a shuffle."""
    if k < 2 or k > len(y):
        raise InvalidInputError(f"need 2 <= folds <= {len(y)} samples, got {k}")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    offset = 0
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        fold_of[idx] = (np.arange(len(idx)) + offset) % k
        offset += len(idx)
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)]


def class_weights(y: np.ndarray, num_classes: int) -> torch.Tensor:
    """ "Balanced" weights ``n / (K * n_k)`` for a weighted cross-entropy (absent classes get 0)."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, len(y) / (num_classes * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


class AugmentDataset(Dataset):
    """``(x, y)`` tensors with random label-preserving changes, drawn per sample from torch's global RNG
    (seeded by the fit loop): ``flips`` flips each spatial axis with p = 0.5 (volumes); ``shift`` rolls
    a signal by up to that many samples; ``scale`` multiplies it by ``1 + N(0, scale^2)`` (ECG beats)."""

    def __init__(
        self, x: torch.Tensor, y: torch.Tensor, *, flips: bool = False, shift: int = 0, scale: float = 0.0
    ) -> None:
        self.x, self.y = x, y
        self.flips, self.shift, self.scale = flips, shift, scale

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        sample = self.x[index]
        if self.flips:
            dims = [d for d in range(1, sample.ndim) if torch.rand(()) < 0.5]
            sample = sample.flip(dims) if dims else sample
        if self.shift:
            steps = int(torch.randint(-self.shift, self.shift + 1, ()))
            sample = sample.roll(steps, dims=-1) if steps else sample
        if self.scale:
            sample = sample * (1.0 + self.scale * torch.randn(()))
        return sample, self.y[index]
