"""3D volumes in: NumPy ``.npz`` files in the MedMNIST layout and NIfTI volumes (``nibabel``).

Volumes are ``(D, H, W)`` arrays (depth, height, width; NIfTI's first three axes as stored); a
``Conv3d`` reads them channels-first with a batch axis, ``(B, 1, D, H, W)``. Bad or truncated files
raise one :class:`~convapps.errors.DataFileError` naming the file.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convapps.errors import DataFileError

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class VolumeSet:
    """Labelled volumes of one split: ``images`` ``(N, D, H, W)``, ``labels`` ``(N,)`` int64."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass(frozen=True)
class Volume:
    """One volume ``(D, H, W)`` float32 (or ``(D, H, W, T)`` for 4D NIfTI) with its voxel spacing."""

    data: np.ndarray
    spacing: tuple[float, ...]
    """Voxel size along each axis (mm for NIfTI; 1.0 when the format has none)."""
    affine: np.ndarray | None
    source: str


def read_medmnist_npz(path: str | Path, *, splits: tuple[str, ...] = SPLITS) -> dict[str, VolumeSet]:
    """Read a MedMNIST 3D ``.npz`` (``{split}_images`` ``(N, D, H, W)`` uint8, ``{split}_labels`` ``(N, 1)``).

    Returns the requested splits; a missing key, mismatched lengths or a truncated archive is a
    :class:`DataFileError`. Only ``allow_pickle=False`` arrays are read.
    """
    file = Path(path)
    result: dict[str, VolumeSet] = {}
    try:
        with np.load(file, allow_pickle=False) as archive:
            for split in splits:
                keys = (f"{split}_images", f"{split}_labels")
                missing = [k for k in keys if k not in archive.files]
                if missing:
                    raise DataFileError(f"{file} is not a MedMNIST archive: keys {missing} missing")
                images, labels = archive[keys[0]], archive[keys[1]]
                if images.ndim != 4 or labels.reshape(len(labels), -1).shape[1] != 1 or len(images) != len(labels):
                    raise DataFileError(
                        f"{file}: {split} images {images.shape} / labels {labels.shape} are not (N, D, H, W) / (N, 1)"
                    )
                result[split] = VolumeSet(images=images, labels=labels.reshape(-1).astype(np.int64))
    except DataFileError:
        raise
    except FileNotFoundError:
        raise DataFileError(f"volume archive {file} not found") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise DataFileError(f"volume archive {file} is truncated or not an .npz file: {_one_line(err)}") from None
    return result


def read_nifti(path: str | Path) -> Volume:
    """Read a NIfTI-1/2 volume (``.nii`` or ``.nii.gz``) with ``nibabel``; the data is read eagerly so a
    truncated file fails here, not later."""
    import nibabel

    file = Path(path)
    if not file.is_file():
        raise DataFileError(f"NIfTI file {file} not found")
    try:
        image: Any = nibabel.load(file)
        data = np.asarray(image.dataobj, dtype=np.float32)
        zooms = tuple(float(z) for z in image.header.get_zooms())
        affine = np.asarray(image.affine, dtype=np.float64)
    except Exception as err:  # ImageFileError, EOFError, zlib.error, ValueError on short data...
        raise DataFileError(f"NIfTI file {file} is truncated or malformed: {_one_line(err)}") from None
    if data.ndim not in (3, 4):
        raise DataFileError(f"NIfTI file {file} holds a {data.ndim}D image; a 3D (or 4D) volume is needed")
    return Volume(data=data, spacing=zooms[: data.ndim], affine=affine, source=str(file))


def read_volume(path: str | Path) -> Volume:
    """One volume from ``.nii``/``.nii.gz`` (NIfTI) or ``.npy`` (a ``(D, H, W)`` array)."""
    file = Path(path)
    name = file.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        return read_nifti(file)
    if name.endswith(".npy"):
        try:
            data = np.load(file, allow_pickle=False)
        except (OSError, ValueError, EOFError) as err:
            raise DataFileError(f"NumPy file {file} is truncated or malformed: {_one_line(err)}") from None
        if data.ndim != 3:
            raise DataFileError(f"NumPy file {file} holds shape {data.shape}; a (D, H, W) volume is needed")
        return Volume(data=data.astype(np.float32), spacing=(1.0, 1.0, 1.0), affine=None, source=str(file))
    raise DataFileError(f"unknown volume format {file}: expected .nii, .nii.gz or .npy (or a MedMNIST .npz)")


def _one_line(err: BaseException) -> str:
    """A library's (possibly multi-line) exception text as one line."""
    return " ".join(str(err).split()) or type(err).__name__
