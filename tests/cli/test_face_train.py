"""``convapps face train`` end to end on a few LFW people: train a tiny model, resume it, use it through
``convapps face enroll`` / ``identify --model PATH`` and evaluate it with ``convapps face evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convapps.cli.main import main


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
    pairs = (
        "2\nGeorge_W_Bush\t1\t2\nColin_Powell\t1\t2\nGeorge_W_Bush\t3\tColin_Powell\t3\n"
        "George_W_Bush\t4\tTony_Blair\t1\n"
    )
    for name in ("pairsDevTrain.txt", "pairsDevTest.txt"):
        (mini / name).write_text(pairs)
    report = tmp_path / "report"
    capsys.readouterr()
    assert main(["face", "evaluate", "--lfw", str(mini), "--model", str(model), "--out", str(report),
                 "--cache", str(cache), "--no-flip", "--quiet"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "| ROC AUC |" in (report / "report.md").read_text() and (report / "roc.png").is_file()
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["n_same"] == 2 and metrics["n_different"] == 2 and 0.0 <= metrics["accuracy"] <= 1.0
    assert metrics["scorer"] == info["model_id"] and metrics["protocol"] == "view1"
    assert f"report: {report / 'report.md'}" in out and "pairs: 4   folds: 1" in out

    # the same evaluation in Python, through the training run's own View 1 evaluation (the figures
    # 'face train' stores): same scores as the command
    from convapps.face.chip_cache import ChipCache
    from convapps.face.training.encoder_run import evaluate_encoder

    again = evaluate_encoder(load_encoder(model), mini, ChipCache.for_lfw(mini, cache), progress=False)
    assert again.figures.tau == pytest.approx(metrics["tau"]) and again.figures.auc == pytest.approx(metrics["auc"])

    # a Siamese head on the same cached dlib encodings, then evaluated with --siamese
    head = tmp_path / "head.pt"
    assert main(["face", "train-siamese", "--lfw", str(mini), "--out", str(head), "--epochs", "2",
                 "--cache", str(cache), "--quiet"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["face", "evaluate", "--lfw", str(mini), "--siamese", str(head), "--cache", str(cache),
                 "--no-flip", "--json", "--quiet"]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert doc["scorer"].startswith("Siamese head") and doc["pairs"] == 4


def test_help_is_useful() -> None:
    for command in ("train", "train-siamese", "evaluate", "evaluate-lfw"):
        assert main(["face", command, "--help"]) == 0


def test_evaluate_lfw_is_a_hidden_alias_of_evaluate(capsys: pytest.CaptureFixture[str]) -> None:
    from convapps.cli.face_evaluate import evaluate, evaluate_lfw

    assert evaluate_lfw.hidden and evaluate_lfw.callback is evaluate.callback
    assert [p.name for p in evaluate_lfw.params] == [p.name for p in evaluate.params]
    assert main(["face", "--help"]) == 0
    listing = capsys.readouterr().out
    assert " evaluate " in listing and "evaluate-lfw" not in listing


def test_evaluate_needs_lfw_or_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["face", "evaluate", "--pairs", "pairs.txt"]) == 2
    assert "give --lfw DIR, or --pairs FILE with --images DIR" in capsys.readouterr().err
