"""``convapps face train`` end to end on a few LFW people: train a tiny model, resume it, and use it through
``convapps face enroll`` / ``identify --model PATH``; plus the report folder of ``evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from convapps.cli.main import main
from convapps.face.training.evaluation import verification_report
from convapps.face.training.report import write_report


@pytest.mark.shared_data
def test_train_resume_and_identify_with_trained_model(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lfw = shared_data / "faces" / "lfw"
    run, cache, gallery = tmp_path / "run", tmp_path / "cache", tmp_path / "gallery.db"
    common = ["face", "train", "--lfw", str(lfw), "--out", str(run), "--max-people", "7", "--steps-per-epoch", "2",
              "--p", "4", "--k", "2", "--no-eval", "--cache", str(cache), "--quiet", "--threads", "1"]  # fmt: skip
    assert main([*common, "--epochs", "1"]) == 0
    assert json.loads((run / "train.json").read_text())["epochs_run"] == 1
    assert main([*common, "--epochs", "2", "--resume"]) == 0  # continues from checkpoints/last.pt
    info = json.loads((run / "train.json").read_text())
    assert info["epochs_run"] == 2 and len(info["active"]) == 2
    assert all(0.0 <= a <= 1.0 for a, _ in info["active"])
    model = run / "model.pt"
    assert model.is_file() and "model.pt" in capsys.readouterr().out

    person = lfw / "lfw-deepfunneled" / "George_W_Bush"
    enrolled, probe = person / "George_W_Bush_0001.jpg", person / "George_W_Bush_0002.jpg"
    enroll = ["face", "enroll", "George_W_Bush", str(enrolled), "--gallery", str(gallery), "--model", str(model)]
    assert main(enroll) == 0
    capsys.readouterr()
    assert main(["face", "identify", str(probe), "--gallery", str(gallery), "--model", str(model), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert result["nearest"] == "George_W_Bush"

    # the distance identify reports is the trained encoder's squared L2 between the two photos
    from convapps.face.encoders import load_encoder
    from convapps.face.pipeline import FacePipeline
    from convapps.io.images import load_image

    pipe = FacePipeline(encoder=load_encoder(model))
    a = pipe.encode_one(load_image(enrolled)).embedding
    b = pipe.encode_one(load_image(probe)).embedding
    assert result["distance"] == pytest.approx(float(((a - b) ** 2).sum()), rel=1e-4, abs=1e-6)
    assert result["tau"] == pytest.approx(load_encoder(model).default_tau)
    # the gallery now holds the trained model's embedding space: dlib encodings are refused
    assert main(["face", "identify", str(probe), "--gallery", str(gallery)]) != 0

    # evaluate: a miniature LFW (same images, 2 + 2 pairs per protocol file) through the real command
    mini = tmp_path / "mini_lfw"
    mini.mkdir()
    (mini / "lfw-deepfunneled").symlink_to(lfw / "lfw-deepfunneled")
    pairs = "2\nGeorge_W_Bush\t1\t2\nColin_Powell\t1\t2\nGeorge_W_Bush\t3\tColin_Powell\t3\n" \
        "George_W_Bush\t4\tTony_Blair\t1\n"
    for name in ("pairsDevTrain.txt", "pairsDevTest.txt"):
        (mini / name).write_text(pairs)
    report = tmp_path / "report"
    capsys.readouterr()
    assert main(["face", "evaluate", "--lfw", str(mini), "--model", str(model), "--out", str(report),
                 "--cache", str(cache), "--quiet"]) == 0  # fmt: skip
    assert "| ROC AUC |" in (report / "report.md").read_text() and (report / "roc.png").is_file()
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["n_same"] == 2 and metrics["n_different"] == 2 and 0.0 <= metrics["accuracy"] <= 1.0


def test_report_folder(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    same = np.r_[np.ones(200, bool), np.zeros(200, bool)]
    d = np.where(same, rng.normal(0.5, 0.2, 400), rng.normal(1.2, 0.2, 400))
    report = verification_report(d, same, tau=0.85)
    path = write_report(tmp_path / "rep", title="t", distances=d, same=same, report=report, details={"k": "v"})
    text = path.read_text()
    assert "| ROC AUC |" in text and "only FAR = 0 qualifies" in text and report.accuracy > 0.9
    assert (tmp_path / "rep" / "roc.png").stat().st_size > 1000
    assert (tmp_path / "rep" / "distances.png").stat().st_size > 1000
    assert json.loads((tmp_path / "rep" / "metrics.json").read_text())["n_same"] == 200


def test_help_is_useful() -> None:
    for command in ("train", "train-siamese", "evaluate"):
        assert main(["face", command, "--help"]) == 0
