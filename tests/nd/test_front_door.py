"""The ``convapps.nd`` front door, used the way a notebook would: only ``from convapps import nd``. Tiny
real runs on synthetic, easily separable data (seconds), so they need no shared data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from convapps import nd
from convapps.errors import InvalidInputError

LENGTH = 64


def _sines(n: int, cycles: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` noisy sines of ``cycles`` periods over ``LENGTH`` samples, random phase and amplitude."""
    t = np.arange(LENGTH) / LENGTH
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    amplitude = rng.uniform(0.5, 2.0, size=(n, 1))
    return amplitude * np.sin(2 * np.pi * cycles * t + phase) + 0.3 * rng.standard_normal((n, LENGTH))


def _write_ucr(path: Path, counts: tuple[int, int], rng: np.random.Generator) -> None:
    """A UCR file: label ``1`` = 2-cycle sines, label ``2`` = 6-cycle sines, rows shuffled."""
    specs = ((1, 2.0, counts[0]), (2, 6.0, counts[1]))
    rows = [np.column_stack([np.full(n, label), _sines(n, cycles, rng)]) for label, cycles, n in specs]
    table = np.concatenate(rows)[rng.permutation(sum(counts))]
    path.write_text("\n".join(",".join(f"{v:.5f}" for v in row) for row in table) + "\n")


@pytest.fixture(scope="module")
def ucr_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ucr")
    rng = np.random.default_rng(0)
    _write_ucr(folder / "SINES_TRAIN.txt", (36, 24), rng)
    _write_ucr(folder / "SINES_TEST.txt", (24, 16), rng)  # majority class: 24 / 40 = 0.6
    return folder / "SINES_TRAIN.txt", folder / "SINES_TEST.txt"


def test_train_and_report_then_predict_a_ucr_file(ucr_files: tuple[Path, Path], tmp_path: Path) -> None:
    train, test = ucr_files
    data = nd.ecg_from_ucr(train, test, val_fraction=0.2, seed=0)
    assert data.classes == ("1", "2") and data.input_shape == (1, LENGTH)
    assert len(data.y_train) + len(data.y_val) == 60 and data.x_test is not None and data.x_test.shape == (40, 1, 64)
    config = nd.ConvNetConfig(ndim=1, channels=(8, 16), kernels=(5, 3))
    fit = nd.FitConfig(epochs=20, batch_size=16, patience=None, progress=False)
    run = nd.train_and_report(data, task="ecg", model_config=config, fit_config=fit, out_dir=tmp_path / "sines")

    test_report = run.outcome.test
    assert test_report is not None and test_report.n == 40
    assert test_report.majority_accuracy == pytest.approx(0.6)
    assert test_report.accuracy >= 0.9 and test_report.macro_auc >= 0.95
    report = json.loads((tmp_path / "sines" / "report.json").read_text())
    assert report["title"] == "sines" and report["task"] == "ecg"
    assert report["splits"]["test"]["accuracy"] == pytest.approx(test_report.accuracy)

    bundle = nd.load_bundle(tmp_path / "sines" / "model.pt")
    assert bundle.task == "ecg" and bundle.classes == ("1", "2") and bundle.input_shape == (1, LENGTH)
    assert bundle.normalize == "zscore" and bundle.config == config
    result = nd.predict_file(tmp_path / "sines" / "model.pt", test)
    assert len(result.predictions) == 40 and result.predictions[0].item == "row 1"
    accuracy = np.mean([p.label == p.truth for p in result.predictions])
    assert accuracy == pytest.approx(test_report.accuracy)
    assert all(sum(p.probabilities.values()) == pytest.approx(1, abs=1e-3) for p in result.predictions)


def _volumes(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 1, 8, 8, 8)`` noise volumes; class 1 adds a +-1 checkerboard texture (3 of 4 volumes are class 0)."""
    y = (rng.uniform(size=n) < 0.25).astype(np.int64)
    checker = (np.indices((8, 8, 8)).sum(axis=0) % 2 * 2 - 1).astype(np.float32)
    x = 0.5 * rng.standard_normal((n, 1, 8, 8, 8)).astype(np.float32) + y[:, None, None, None, None] * checker
    return x.astype(np.float32), y


def test_train_classifier_in_memory_on_own_volumes() -> None:
    rng = np.random.default_rng(1)
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = (_volumes(n, rng) for n in (48, 16, 40))
    data = nd.ClassifierData(x_tr, y_tr, x_va, y_va, ("plain", "textured"), x_te, y_te)
    config = nd.ConvNetConfig(ndim=3, channels=(4, 8), kernels=(3, 3))
    fit = nd.FitConfig(epochs=15, batch_size=16, patience=None, progress=False)
    outcome = nd.train_classifier(data, model_config=config, fit_config=fit)

    assert len(outcome.fit.history) == 15
    assert outcome.test is not None and outcome.test.n == 40
    majority = float(np.bincount(y_te).max()) / len(y_te)
    assert outcome.test.majority_accuracy == pytest.approx(majority)
    assert outcome.test.accuracy > majority and outcome.test.accuracy >= 0.9
    with torch.no_grad():
        logits = outcome.model.eval()(torch.from_numpy(x_te[:5]))
    assert tuple(logits.shape) == (5, 2)


def test_train_classifier_refuses_a_model_of_other_classes() -> None:
    rng = np.random.default_rng(2)
    (x, y), (xv, yv) = _volumes(8, rng), _volumes(4, rng)
    data = nd.ClassifierData(x, y, xv, yv, ("plain", "textured"))
    with pytest.raises(InvalidInputError, match="3 classes"):
        nd.train_classifier(data, model_config=nd.ConvNetConfig(ndim=3, num_classes=3), fit_config=nd.FitConfig())


def test_front_door_names_resolve_lazily_and_are_documented() -> None:
    assert 5 <= len(nd.__all__) <= 12 and sorted(nd.__all__) == nd.__all__
    for name in nd.__all__:
        value = getattr(nd, name)
        assert value.__doc__ and value.__doc__.strip(), name
        assert name in dir(nd)
    with pytest.raises(AttributeError, match="no attribute 'train_ecg'"):
        nd.train_ecg  # noqa: B018
    code = "import sys, convapps.nd; print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
