"""``convapps face detect/verify/encode/evaluate-lfw`` through main(argv), and once via the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convapps.cli.main import main
from convapps.io.images import load_image

CONSOLE_SCRIPT = Path(sys.executable).parent / "convapps"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def images(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    lfw = shared_data / "faces" / "lfw" / "lfw-deepfunneled"
    folder = tmp_path_factory.mktemp("faces")
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(folder / "blank.png")
    big = load_image(lfw / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
    small = np.asarray(Image.fromarray(load_image(lfw / "Abel_Pacheco/Abel_Pacheco_0001.jpg")).resize((170, 170)))
    canvas = np.full((250, 420, 3), 255, np.uint8)
    canvas[:, :250], canvas[40:210, 250:] = big, small
    Image.fromarray(canvas).save(folder / "two.png")
    return {
        "a1": lfw / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg",
        "a2": lfw / "Aaron_Peirsol/Aaron_Peirsol_0002.jpg",
        "b1": lfw / "Abel_Pacheco/Abel_Pacheco_0001.jpg",
        "b2": lfw / "Abel_Pacheco/Abel_Pacheco_0002.jpg",
        "blank": folder / "blank.png",
        "two": folder / "two.png",
        "lfw": lfw,
    }


@pytest.mark.parametrize("command", ["detect", "verify", "encode", "evaluate-lfw"])
def test_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, "face", command, "--help")
    assert code == 0 and f"Usage: convapps face {command}" in out and "Example" in out


def test_verify_same_and_different(capsys: pytest.CaptureFixture[str], images: dict[str, Path]) -> None:
    code, out, _ = run(capsys, "face", "verify", str(images["a1"]), str(images["a2"]))
    assert code == 0 and "SAME person" in out and "(squared L2; plain L2" in out
    code, out, _ = run(capsys, "face", "verify", str(images["a1"]), str(images["b1"]), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["same"] is False and doc["distance"] > doc["tau"]
    assert doc["tau_l2"] == pytest.approx(doc["tau"] ** 0.5)


def test_verify_tau_l2_maps_to_squared(capsys: pytest.CaptureFixture[str], images: dict[str, Path]) -> None:
    code, out, _ = run(capsys, "face", "verify", str(images["a1"]), str(images["a2"]), "--tau-l2", "0.6", "--json")
    assert code == 0 and json.loads(out)["tau"] == pytest.approx(0.36)
    code, _, err = run(
        capsys, "face", "verify", str(images["a1"]), str(images["a2"]), "--tau", "0.3", "--tau-l2", "0.5"
    )
    assert code == 2 and "not both" in err


def test_verify_no_face_names_image(capsys: pytest.CaptureFixture[str], images: dict[str, Path]) -> None:
    code, out, err = run(capsys, "face", "verify", str(images["a1"]), str(images["blank"]))
    assert code == 3 and out == ""
    assert f"convapps: error: {images['blank']}: no face found" in err


def test_verify_several_faces(capsys: pytest.CaptureFixture[str], images: dict[str, Path]) -> None:
    code, out, err = run(capsys, "face", "verify", str(images["two"]), str(images["a2"]))
    assert code == 0 and "SAME person" in out and "2 faces found, used the largest" in err
    code, out, _ = run(capsys, "face", "verify", str(images["two"]), str(images["b2"]), "--face1", "1", "--json")
    doc = json.loads(out)
    assert doc["same"] is True and doc["faces"][0]["index"] == 1
    code, _, err = run(capsys, "face", "verify", str(images["two"]), str(images["b2"]), "--face", "2")
    assert code == 3 and "face 2 requested but 2 face(s) found" in err


def test_detect_annotates(capsys: pytest.CaptureFixture[str], images: dict[str, Path], tmp_path: Path) -> None:
    out_png = tmp_path / "annotated.png"
    code, out, _ = run(capsys, "face", "detect", str(images["two"]), "-o", str(out_png))
    assert code == 0 and "2 face(s)" in out and "face 0: box" in out
    annotated = load_image(out_png)
    assert annotated.shape == (250, 420, 3)
    assert not np.array_equal(annotated, load_image(images["two"]))
    code, out, err = run(capsys, "face", "detect", str(images["blank"]), "--json")
    assert code == 3 and json.loads(out)["faces"] == [] and "no face found" in err


def test_encode_folder_to_npz(capsys: pytest.CaptureFixture[str], images: dict[str, Path], tmp_path: Path) -> None:
    out_npz = tmp_path / "faces.npz"
    code, out, err = run(
        capsys,
        "face",
        "encode",
        str(images["a1"]),
        str(images["two"]),
        str(images["blank"]),
        "-o",
        str(out_npz),
        "--workers",
        "1",
        "--no-flip",
    )
    assert code == 0 and "3 face(s) from 3 image(s)" in out and f"no face: {images['blank']}" in err
    data = np.load(out_npz)
    assert data["embeddings"].shape == (3, 128) and data["face_index"].tolist() == [0, 0, 1]


def test_evaluate_lfw_limit(capsys: pytest.CaptureFixture[str], images: dict[str, Path], tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.txt"
    # 2 folds of 1 same + 1 different pair (View 2's layout)
    pairs.write_text(
        "2\t1\nAaron_Peirsol\t1\t2\nAaron_Peirsol\t1\tAbel_Pacheco\t1\n"
        "Abel_Pacheco\t1\t2\nAaron_Peirsol\t2\tAbel_Pacheco\t2\n"
    )
    roc = tmp_path / "roc.png"
    code, out, _ = run(
        capsys,
        "face",
        "evaluate-lfw",
        "--pairs",
        str(pairs),
        "--root",
        str(images["lfw"]),
        "--roc",
        str(roc),
        "--workers",
        "1",
        "--no-flip",
    )
    assert code == 0, out
    assert "pairs: 4   folds: 2" in out and "ROC AUC: 1.0000" in out and roc.stat().st_size > 1000


def test_console_script_verify(images: dict[str, Path]) -> None:
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "face", "verify", str(images["blank"]), str(images["a1"])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 3 and f"{images['blank']}: no face found" in proc.stderr
