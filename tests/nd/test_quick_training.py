"""Quick training of the nd use cases (``nd/training/``) on small real subsets: the 1D net must beat
the majority-class baseline on ECG200's official test split and on MIT-BIH 100 beats; the 3D net must
rank AdrenalMNIST3D volumes better than chance. A model bundle round-trips and predicts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from convapps.errors import CheckpointError
from convapps.nd.bundle import load_bundle
from convapps.nd.ecg import ecg_from_record, ecg_from_ucr
from convapps.nd.predict import predict_file
from convapps.nd.training.classifier import train_classifier
from convapps.nd.training.runs import train_and_report
from convapps.nd.volume import volume_from_npz
from convapps.nn.convnet import ConvNetConfig
from convapps.training import FitConfig, OptimizerConfig

pytestmark = pytest.mark.shared_data
SMALL_1D = ConvNetConfig(ndim=1, channels=(16, 32, 32), kernels=(7, 5, 3))


@pytest.fixture(scope="module")
def ecg200(shared_data: Path) -> Path:
    return shared_data / "nd" / "ecg" / "ucr_ecg200"


@pytest.fixture(scope="module")
def ecg200_run(ecg200: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    torch.set_num_threads(1)
    data = ecg_from_ucr(ecg200 / "ECG200_TRAIN.txt", ecg200 / "ECG200_TEST.txt", seed=0)
    out = tmp_path_factory.mktemp("ecg200")
    fit = FitConfig(epochs=25, batch_size=16, patience=10, progress=False, optimizer=OptimizerConfig(lr=3e-3))
    summary = train_and_report(
        data, task="ecg", model_config=SMALL_1D, fit_config=fit, out_dir=out, title="ECG200", normalize="zscore"
    )
    return summary, out


def test_ecg200_beats_majority_baseline(ecg200_run) -> None:  # type: ignore[no-untyped-def]
    summary, out = ecg200_run
    test = summary.outcome.test
    assert test.n == 100 and test.majority_accuracy == pytest.approx(0.64)
    assert test.accuracy > test.majority_accuracy + 0.1
    assert test.macro_auc > 0.8
    assert sum(map(sum, test.confusion)) == 100
    for name in ("model.pt", "report.json", "confusion_test.png", "confusion_val.png", "checkpoints/best.pt"):
        assert (out / name).is_file()
    assert (out / "confusion_test.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bundle_predicts_like_the_trained_model(ecg200_run, ecg200: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    summary, out = ecg200_run
    bundle = load_bundle(out / "model.pt")
    assert bundle.task == "ecg" and bundle.classes == ("-1", "1") and bundle.input_shape == (1, 96)
    result = predict_file(out / "model.pt", ecg200 / "ECG200_TEST.txt")
    assert len(result.predictions) == 100
    accuracy = np.mean([p.label == p.truth for p in result.predictions])
    assert accuracy == pytest.approx(summary.outcome.test.accuracy)
    assert "accuracy against the file's labels" in result.summary()
    (tmp_path / "cut.pt").write_bytes((out / "model.pt").read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="truncated"):
        load_bundle(tmp_path / "cut.pt")
    with pytest.raises(CheckpointError, match="not a convapps nd model"):
        load_bundle(out / "checkpoints" / "best.pt")


def test_dicom_ecg_is_classified_window_by_window(ecg200_run) -> None:  # type: ignore[no-untyped-def]
    import pydicom

    _, out = ecg200_run
    dcm = Path(pydicom.__file__).parent / "data" / "test_files" / "waveform_ecg.dcm"
    result = predict_file(out / "model.pt", dcm)
    assert len(result.predictions) == 10000 // 96
    assert result.predictions[0].item == "window 0.000-0.096 s"
    assert all(abs(sum(p.probabilities.values()) - 1) < 1e-3 for p in result.predictions)


def test_mitbih_beats_beat_majority_baseline(shared_data: Path) -> None:
    data, fs = ecg_from_record(shared_data / "nd" / "ecg" / "wfdb_python_sample_data" / "100", seed=0)
    assert fs == 360.0 and data.classes == ("N", "A") and data.input_shape == (1, 252)
    assert np.bincount(data.y_test).tolist() == [447, 7]
    keep = np.concatenate([np.flatnonzero(data.y_train == 1), np.flatnonzero(data.y_train == 0)[:300]])
    small = type(data)(
        data.x_train[keep], data.y_train[keep], data.x_val, data.y_val, data.classes, data.x_test, data.y_test
    )
    fit = FitConfig(epochs=8, batch_size=32, patience=None, progress=False, optimizer=OptimizerConfig(lr=3e-3))
    outcome = train_classifier(small, model_config=SMALL_1D, fit_config=fit, balanced=True)
    test = outcome.test
    assert test is not None
    # the majority baseline (always N) finds no A beat: its balanced accuracy is 0.5
    recall = [row[i] / sum(row) for i, row in enumerate(test.confusion)]
    assert np.mean(recall) > 0.6 and test.confusion[1][1] >= 2
    assert test.accuracy >= test.majority_accuracy


def test_volume_net_ranks_adrenal_volumes_better_than_chance(shared_data: Path, tmp_path: Path) -> None:
    """200 volumes per split, average-pooled 28^3 -> 14^3 to keep the test short; the majority-class
    baseline ranks at chance (AUC 0.5)."""
    import torch.nn.functional as F

    full = volume_from_npz(shared_data / "nd" / "volumes" / "medmnist_adrenal" / "adrenalmnist3d.npz", limit=200)
    assert full.x_train.shape == (200, 1, 28, 28, 28) and full.classes == ("normal", "hyperplasia")

    def half(a: np.ndarray | None) -> np.ndarray:
        assert a is not None
        return F.avg_pool3d(torch.from_numpy(a), 2).numpy()

    data = type(full)(
        half(full.x_train), full.y_train, half(full.x_val), full.y_val, full.classes, half(full.x_test), full.y_test
    )
    config = ConvNetConfig(ndim=3, channels=(4, 8, 16), kernels=(3, 3, 3))
    fit = FitConfig(epochs=7, batch_size=16, patience=None, progress=False, optimizer=OptimizerConfig(lr=1e-2))
    summary = train_and_report(
        data,
        task="volume",
        model_config=config,
        fit_config=fit,
        out_dir=tmp_path,
        title="adrenal",
        normalize="unit",
        flips=True,
    )
    test = summary.outcome.test
    assert test is not None and test.n == 200
    assert test.macro_auc > 0.65
    import nibabel

    nifti = Path(nibabel.__file__).parent / "tests" / "data" / "anatomical.nii"
    result = predict_file(tmp_path / "model.pt", nifti)  # 33x41x25 resized to the model's 14^3
    assert len(result.predictions) == 1 and result.predictions[0].label in data.classes
