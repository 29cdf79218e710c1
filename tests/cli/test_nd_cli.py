"""``convapps nd``: the shape calculator (unchanged), ``shape --model``, train-ecg, train-volume and
predict through ``main(argv)``, and once through the installed console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from convapps.cli.main import main


def test_lecture_calculator_output_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nd", "shape", "14x1", "--filters", "16,32", "--kernel", "5"]) == 0
    out = capsys.readouterr().out
    assert "shapes: 14x1 -> 10x16 -> 6x32" in out
    assert out.splitlines()[-1] == "output: 6x32   parameters: 2,688"


def test_shape_model_conv1d_every_layer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nd", "shape", "96x1", "--model", "conv1d"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rows["conv1"][1:4] == ["Conv1d", "96x64", "96x64"]
    assert rows["pool2"][2] == "24x128"
    assert rows["fc"][2] == "2"
    assert "all 15 layer shapes agree with torch" in out


def test_shape_model_conv3d_custom_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["nd", "shape", "28x28x28x1", "--model", "conv3d", "--filters", "8,16", "--kernel", "3", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert layers["pool1"]["torch"] == "14x14x14x8"
    assert layers["conv2"]["predicted"] == "14x14x14x16" and layers["conv2"]["parameters"] == 27 * 8 * 16
    assert "pool2" not in layers  # no pooling after the last block


def test_shape_model_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nd", "shape", "28x28x1", "--model", "conv1d"]) == 2
    assert "reads 1D inputs" in capsys.readouterr().err
    assert main(["nd", "shape", "96x1", "--model", "resnet"]) == 2
    assert "unknown model 'resnet'" in capsys.readouterr().err


@pytest.mark.shared_data
def test_train_ecg_then_predict(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ucr = shared_data / "nd" / "ecg" / "ucr_ecg200"
    out = tmp_path / "ecg200"
    argv = [
        "nd",
        "train-ecg",
        "--train",
        str(ucr / "ECG200_TRAIN.txt"),
        "--test",
        str(ucr / "ECG200_TEST.txt"),
        "--out",
        str(out),
        "--epochs",
        "12",
        "--filters",
        "16,32",
        "--kernel",
        "5",
        "--lr",
        "0.003",
        "--quiet",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "test: accuracy" in text and "majority-class baseline 0.640" in text
    report = json.loads((out / "report.json").read_text())
    assert report["splits"]["test"]["n"] == 100 and report["model"]["channels"] == [16, 32]
    assert main(["nd", "predict", str(out / "model.pt"), str(ucr / "ECG200_TEST.txt"), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 100 and set(json.loads(lines[0])["probabilities"]) == {"-1", "1"}
    # resume: the run finished, so a resumed run with the same epochs trains no further
    assert main([*argv, "--resume"]) == 0
    assert "best epoch" in capsys.readouterr().out


@pytest.mark.shared_data
def test_train_ecg_arch_minirocket_and_inception_with_explain(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ucr = shared_data / "nd" / "ecg" / "ucr_ecg200"
    files = ["--train", str(ucr / "ECG200_TRAIN.txt"), "--test", str(ucr / "ECG200_TEST.txt")]
    anchor = tmp_path / "minirocket"
    assert main(["nd", "train-ecg", "--arch", "minirocket", *files, "--out", str(anchor)]) == 0
    text = capsys.readouterr().out
    assert "minirocket fitted on 100 signals" in text and "no model.pt" in text
    report = json.loads((anchor / "report.json").read_text())
    assert report["arch"] == "minirocket" and report["splits"]["test"]["accuracy"] >= 0.88
    assert (anchor / "confusion_test.png").is_file() and not (anchor / "model.pt").exists()
    # --folds works for the anchor too (the same folds as the nets)
    cv = tmp_path / "cv"
    argv = ["nd", "train-ecg", "--arch", "minirocket", "--train", str(ucr / "ECG200_TRAIN.txt"), "--folds", "3"]
    assert main([*argv, "--out", str(cv)]) == 0
    assert len(json.loads((cv / "cv.json").read_text())["folds"]) == 3
    capsys.readouterr()
    net = tmp_path / "inception"
    argv = ["nd", "train-ecg", "--arch", "inception", *files, "--out", str(net), "--epochs", "3", "--quiet"]
    assert main(argv) == 0
    assert json.loads((net / "report.json").read_text())["model"]["arch"] == "inception"
    capsys.readouterr()
    assert main(["nd", "predict", str(net / "model.pt"), str(ucr / "ECG200_TEST.txt"), "--explain"]) == 0
    assert f"saliency of 8 item(s) in {net / 'explain'}" in capsys.readouterr().out
    assert sorted(p.name for p in (net / "explain").iterdir())[:2] == ["ECG200_TEST_001.png", "ECG200_TEST_002.png"]
    assert main(["nd", "shape", "96x1", "--model", str(net / "model.pt")]) == 2
    assert "layer table covers plain conv nets" in capsys.readouterr().err
    assert main(["nd", "train-ecg", "--arch", "minirocket", "--train", files[1], "--out", str(tmp_path / "x")]) == 2
    assert "give --test (or --folds)" in capsys.readouterr().err


@pytest.mark.shared_data
def test_train_ecg_arch_hybrid(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ucr = shared_data / "nd" / "ecg" / "ucr_ecg200"
    files = ["--train", str(ucr / "ECG200_TRAIN.txt"), "--test", str(ucr / "ECG200_TEST.txt")]
    out = tmp_path / "hybrid"
    argv = ["nd", "train-ecg", "--arch", "hybrid", "--hybrid-net", "conv1d", *files, "--epochs", "20", "--quiet"]
    assert main([*argv, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "test, conv1d alone" in text and "test, minirocket alone" in text and "no model.pt" in text
    report = json.loads((out / "report.json").read_text())
    assert report["arch"] == "hybrid" and report["model"]["channels"] == [64, 128, 128]
    net, anchor = report["net_test"]["accuracy"], report["minirocket_test"]["accuracy"]
    assert anchor >= 0.88 and net > 0.64  # the net beats the majority class (0.64) after 20 epochs
    assert report["splits"]["test"]["accuracy"] >= min(net, anchor) - 0.02
    assert (out / "confusion_test.png").is_file() and not (out / "model.pt").exists()
    cv = tmp_path / "cv"
    argv = ["nd", "train-ecg", "--arch", "hybrid", "--hybrid-net", "conv1d", "--train", files[1], "--folds", "2"]
    assert main([*argv, "--epochs", "5", "--quiet", "--out", str(cv)]) == 0
    assert len(json.loads((cv / "cv.json").read_text())["folds"]) == 2
    assert main(["nd", "train-ecg", "--arch", "hybrid", "--train", files[1], "--out", str(tmp_path / "x")]) == 2
    assert "give --test (or --folds)" in capsys.readouterr().err


@pytest.mark.shared_data
def test_train_volume_quick(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    npz = shared_data / "nd" / "volumes" / "medmnist_adrenal" / "adrenalmnist3d.npz"
    argv = [
        "nd",
        "train-volume",
        "--data",
        str(npz),
        "--out",
        str(tmp_path),
        "--limit",
        "32",
        "--epochs",
        "1",
        "--filters",
        "4,8",
        "--quiet",
        "--threads",
        "1",
    ]
    assert main(argv) == 0
    assert "test: accuracy" in capsys.readouterr().out
    assert main(["nd", "predict", str(tmp_path / "model.pt"), str(npz), "--split", "val"]) == 0
    assert "98 item(s)" in capsys.readouterr().out.splitlines()[-1]


def test_train_and_predict_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nd", "train-ecg", "--out", str(tmp_path)]) == 2
    assert "give either --train" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 3\n1 2\n")
    assert main(["nd", "train-ecg", "--train", str(bad), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("convapps: error: UCR file") and err.count("\n") == 1
    assert main(["nd", "predict", str(tmp_path / "none.pt"), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "none.pt does not exist (expected a convapps nd model)" in err
    assert err.rstrip().endswith("train one with 'convapps nd train-ecg' or 'convapps nd train-volume'")
    assert main(["nd", "shape", "96x1", "--model", str(tmp_path / "none.pt")]) == 1
    assert "does not exist" in capsys.readouterr().err
    bad.with_suffix(".pt").write_bytes(b"not a torch file")
    assert main(["nd", "predict", str(bad.with_suffix(".pt")), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "truncated or not a torch file" in err and "train-ecg" not in err


def test_console_script_help() -> None:
    exe = shutil.which("convapps", path=str(Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run([exe, "nd", "--help"], capture_output=True, text=True, timeout=60, check=True)
    for command in ("shape", "train-ecg", "train-volume", "predict"):
        assert command in done.stdout


def test_nd_tour_runs_on_shipped_ecg(capsys: pytest.CaptureFixture[str]) -> None:
    from convapps.cli.tour import nd_tour

    nd_tour()
    out = capsys.readouterr().out
    assert "12 leads x 10000 samples at 1000 Hz" in out
    assert "conv1    Conv1d             1000x64" in out
    assert "all 15 layer shapes agree with torch" in out
