"""Volume readers on real files: AdrenalMNIST3D (28^3 and 64^3), nibabel's shipped NIfTI volumes;
truncated copies must raise one DataFileError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convapps.errors import DataFileError
from convapps.io.volumes import read_medmnist_npz, read_nifti, read_volume


@pytest.fixture(scope="module")
def nifti_dir() -> Path:
    import nibabel

    return Path(nibabel.__file__).parent / "tests" / "data"


@pytest.mark.shared_data
def test_adrenal_official_splits(shared_data: Path) -> None:
    splits = read_medmnist_npz(shared_data / "nd" / "volumes" / "medmnist_adrenal" / "adrenalmnist3d.npz")
    assert {k: len(v) for k, v in splits.items()} == {"train": 1188, "val": 98, "test": 298}
    assert splits["train"].images.shape[1:] == (28, 28, 28)
    assert splits["train"].images.dtype == np.uint8
    assert np.bincount(splits["train"].labels).tolist() == [929, 259]
    assert np.bincount(splits["test"].labels).tolist() == [229, 69]
    # binary shape masks: almost every voxel is 0 or 255
    sample = splits["test"].images[0]
    assert np.isin(sample, (0, 255)).mean() > 0.9 and sample.max() == 255


@pytest.mark.shared_data
def test_adrenal_64_reads_only_requested_splits(shared_data: Path) -> None:
    path = shared_data / "nd" / "volumes" / "medmnist_adrenal" / "adrenalmnist3d_64.npz"
    splits = read_medmnist_npz(path, splits=("val",))
    assert list(splits) == ["val"] and splits["val"].images.shape == (98, 64, 64, 64)
    assert np.bincount(splits["val"].labels).tolist() == [76, 22]


@pytest.mark.shared_data
def test_truncated_and_foreign_npz(shared_data: Path, tmp_path: Path) -> None:
    raw = (shared_data / "nd" / "volumes" / "medmnist_adrenal" / "adrenalmnist3d.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataFileError, match=r"cut\.npz is truncated"):
        read_medmnist_npz(tmp_path / "cut.npz")
    np.savez(tmp_path / "other.npz", images=np.zeros((2, 3, 3, 3)))
    with pytest.raises(DataFileError, match="not a MedMNIST archive"):
        read_medmnist_npz(tmp_path / "other.npz")


def test_nifti_volumes(nifti_dir: Path) -> None:
    anat = read_nifti(nifti_dir / "anatomical.nii")
    assert anat.data.shape == (33, 41, 25) and anat.data.dtype == np.float32
    assert anat.spacing == (2.0, 2.0, 2.0)
    assert anat.affine is not None and anat.affine.shape == (4, 4)
    gz = read_volume(nifti_dir / "standard.nii.gz")
    assert gz.data.shape == (4, 5, 7) and gz.spacing == (1.0, 3.0, 2.0)
    four_d = read_nifti(nifti_dir / "example4d.nii.gz")
    assert four_d.data.shape == (128, 96, 24, 2)


def test_truncated_nifti(nifti_dir: Path, tmp_path: Path) -> None:
    raw = (nifti_dir / "anatomical.nii").read_bytes()
    (tmp_path / "cut.nii").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataFileError, match=r"cut\.nii is truncated") as info:
        read_nifti(tmp_path / "cut.nii")
    assert "\n" not in str(info.value)
    gz = (nifti_dir / "example4d.nii.gz").read_bytes()
    (tmp_path / "cut.nii.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DataFileError, match=r"cut\.nii\.gz"):
        read_nifti(tmp_path / "cut.nii.gz")
    with pytest.raises(DataFileError, match="unknown volume format"):
        read_volume(tmp_path / "scan.dcm")
