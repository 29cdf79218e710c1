"""Volume classification data: MedMNIST 3D archives (official train/val/test) and single volumes
(NIfTI, .npy) resized to a model's input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from convapps.errors import InvalidInputError
from convapps.io.volumes import Volume, read_medmnist_npz
from convapps.nd.datasets import ClassifierData, normalize

ADRENAL_CLASSES = ("normal", "hyperplasia")
"""AdrenalMNIST3D labels (medmnist ``INFO['adrenalmnist3d']``): 0 normal, 1 hyperplasia."""


def volume_from_npz(path: str | Path, *, limit: int | None = None, seed: int = 0) -> ClassifierData:
    """The archive's official splits as ``(N, 1, D, H, W)`` float32 in [0, 1].

    ``limit`` keeps a random stratified-by-chance subset of at most ``limit`` samples per split (quick runs).
    """
    splits = read_medmnist_npz(path)
    arrays = {}
    rng = np.random.default_rng(seed)
    for name, split in splits.items():
        idx = np.arange(len(split))
        if limit is not None and limit < len(idx):
            idx = np.sort(rng.permutation(idx)[:limit])
        arrays[name] = (normalize(split.images[idx][:, None], "unit"), split.labels[idx])
    k = int(max(s.labels.max() for s in splits.values())) + 1
    classes = ADRENAL_CLASSES if "adrenal" in Path(path).name.lower() and k == 2 else tuple(str(i) for i in range(k))
    return ClassifierData(
        arrays["train"][0],
        arrays["train"][1],
        arrays["val"][0],
        arrays["val"][1],
        classes,
        arrays["test"][0],
        arrays["test"][1],
    )


def prepare_volume(volume: Volume, input_shape: tuple[int, ...]) -> np.ndarray:
    """One volume as a batch ``(1, C, D, H, W)`` matching ``input_shape`` ``(C, D, H, W)``: trilinear
    resize, then min-max scaling to [0, 1]."""
    data = volume.data if volume.data.ndim == 3 else volume.data[..., 0]
    channels, size = input_shape[0], tuple(input_shape[1:])
    if channels != 1 or len(size) != 3:
        raise InvalidInputError(f"model input {input_shape} is not a one-channel volume (1, D, H, W)")
    x = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))[None, None]
    if tuple(x.shape[2:]) != size:
        x = F.interpolate(x, size=size, mode="trilinear", align_corners=False)
    return normalize(x.numpy(), "unit")


def orthogonal_slices(x: np.ndarray) -> np.ndarray:
    """The 2.5D view of volumes ``(N, C, S, S, S)``: the three orthogonal slices through the centre
    (axial, coronal, sagittal) stacked as channels, ``(N, 3C, S, S)``, for a 2D ConvNet."""
    if x.ndim != 5 or not x.shape[2] == x.shape[3] == x.shape[4]:
        raise InvalidInputError(f"expected cubic volumes (N, C, S, S, S), got shape {x.shape}")
    mid = x.shape[2] // 2
    views = (x[:, :, mid, :, :], x[:, :, :, mid, :], x[:, :, :, :, mid])
    return np.ascontiguousarray(np.concatenate(views, axis=1))


def as_orthogonal_slices(data: ClassifierData) -> ClassifierData:
    """Every split of ``data`` through :func:`orthogonal_slices` (the 2.5D baseline's input)."""
    return ClassifierData(
        orthogonal_slices(data.x_train),
        data.y_train,
        orthogonal_slices(data.x_val),
        data.y_val,
        data.classes,
        None if data.x_test is None else orthogonal_slices(data.x_test),
        data.y_test,
    )
