"""One evaluation for every scorer: the pipeline and the chip cache give the same scores, k-fold and View 1
reports, Siamese scoring, the cache's guard and the report folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from convapps.errors import InvalidInputError
from convapps.face.chip_cache import ChipCache
from convapps.face.encoders import load_encoder
from convapps.face.evaluation import evaluate_lfw, evaluate_view1, report_from_scores
from convapps.face.evaluation_report import write_report
from convapps.face.lfw import FaceImage, pair_index, read_pairs
from convapps.face.pipeline import FaceConfig
from convapps.face.scoring import CachedImages, PairScorer, PipelineImages, make_scorer
from convapps.nn.siamese_head import SiameseHead

from .faces_data import blank

PAIRS = "2\t1\nAaron_Peirsol\t1\t2\nAaron_Peirsol\t1\tAbel_Pacheco\t1\nAbel_Pacheco\t1\t2\nAaron_Peirsol\t2\tBlank\t1\n"


@pytest.fixture(scope="module")
def folder(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Images of two LFW people and a blank image (no face), laid out like lfw-deepfunneled/."""
    root = tmp_path_factory.mktemp("mini")
    images = root / "images"
    images.mkdir()
    for name in ("Aaron_Peirsol", "Abel_Pacheco"):
        (images / name).symlink_to(shared_data / "faces" / "lfw" / "lfw-deepfunneled" / name)
    (images / "Blank").mkdir()
    Image.fromarray(blank()).save(images / "Blank" / "Blank_0001.jpg")
    (root / "pairs.txt").write_text(PAIRS)
    return root


@pytest.mark.parametrize("flip", [False, True])
def test_pipeline_and_cache_give_the_same_report(folder: Path, tmp_path: Path, flip: bool) -> None:
    config = FaceConfig(flip=flip, fallback_whole_image=True)
    live = PairScorer(PipelineImages(folder / "images", config, workers=1, progress=False))
    cache = ChipCache(tmp_path / "cache", folder / "images", config)
    cached = PairScorer(CachedImages(cache, load_encoder(None), config, progress=False))
    a = evaluate_lfw(live, pairs_file=folder / "pairs.txt")
    b = evaluate_lfw(cached, pairs_file=folder / "pairs.txt")
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
    blank_path = str(folder / "images" / "Blank" / "Blank_0001.jpg")
    assert a.no_face == b.no_face == (blank_path,)
    assert cache.undetected() == {"Blank_0001"}
    assert a.n_pairs == 4 and a.cv is not None and len(a.cv.fold_accuracies) == 2
    assert a.figures.tau == 0.36 and a.figures.accuracy == 1.0 and a.figures.auc == 1.0
    assert a.scores[0] < 0.2 and a.scores[1] > 0.45  # same person / different people
    # the chip route with a cached chip and the dlib-encoding route agree too (no jitter: cached encodings)
    chips = cache.chips([FaceImage("Aaron_Peirsol", 1)])
    direct = load_encoder(None).encode_chips(chips)
    np.testing.assert_allclose(cache.encodings([FaceImage("Aaron_Peirsol", 1)]), direct, atol=1e-5)


def test_view1_tau_from_dev_train_and_siamese_scores(folder: Path, tmp_path: Path) -> None:
    pairs = read_pairs(folder / "pairs.txt")
    scorer = make_scorer(folder / "images", config=FaceConfig(flip=False), cache=tmp_path / "c", progress=False)
    report = evaluate_view1(scorer, pairs[:2], pairs[2:])
    assert report.protocol == "view1" and report.cv is None and report.tau_source.startswith("best accuracy")
    d_train, _ = scorer.score(pair_index(pairs[:2]))
    assert d_train[0] < report.figures.tau < d_train[1]  # midpoint of the two DevTrain distances
    assert report.figures.tau == pytest.approx(d_train.mean())
    assert report.figures.n_same == 1 and report.figures.n_different == 1

    head = SiameseHead(128, kind="abs")
    siamese = PairScorer(scorer.images, head, -0.25)
    index = pair_index(pairs)
    scores, _ = siamese.score(index)
    enc = torch.from_numpy(ChipCache(tmp_path / "c", folder / "images").encodings(index.images))
    with torch.no_grad():
        expected = -head(enc[index.first], enc[index.second]).double().numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    assert siamese.default_tau == -0.25 and siamese.label.startswith("Siamese head on dlib")


def test_cache_refuses_another_image_folder(folder: Path, tmp_path: Path) -> None:
    ChipCache(tmp_path, folder / "images").ensure_chips([], progress=False)
    other = ChipCache(tmp_path, folder)
    with pytest.raises(InvalidInputError, match="holds chips of"):
        other.ensure_chips([FaceImage("Aaron_Peirsol", 1)], progress=False)
    assert ChipCache(tmp_path, folder, FaceConfig(detector="cnn")).kind.startswith("chips-")
    assert ChipCache(tmp_path, folder, FaceConfig(flip=False)).kind == "chips"  # test-time options do not count


def test_make_scorer_refuses_model_and_siamese(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not both"):
        make_scorer(tmp_path, model="m.pt", siamese=tmp_path / "h.pt")


def test_report_from_scores_and_folder(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    same = np.tile(np.r_[np.ones(50, bool), np.zeros(50, bool)], 4)
    d = np.where(same, rng.normal(0.5, 0.2, 400), rng.normal(1.2, 0.2, 400))
    folds = np.repeat(np.arange(4), 100)
    report = report_from_scores(d, same, tau=0.85, tau_source="given", folds=folds, scorer="s", no_face=["x.jpg"])
    assert report.cv is not None and len(report.cv.fold_accuracies) == 4 and report.cv.mean > 0.9
    assert report.figures.accuracy == pytest.approx(float(((d <= 0.85) == same).mean()))
    doc = report.to_dict()
    assert doc["pairs"] == 400 and doc["fold_accuracies"] == list(report.cv.fold_accuracies)
    assert doc["no_face_images"] == ["x.jpg"] and doc["n_same"] == 200
    path = write_report(tmp_path / "rep", report, details={"k": "v"})
    text = path.read_text()
    assert "| ROC AUC |" in text and "only FAR = 0 qualifies" in text and "| 4-fold accuracy" in text
    assert "- k: v" in text
    assert (tmp_path / "rep" / "roc.png").stat().st_size > 1000
    assert (tmp_path / "rep" / "distances.png").stat().st_size > 1000
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert metrics["n_same"] == 200 and metrics["cv_accuracy_mean"] == pytest.approx(report.cv.mean)
    no_cv = report_from_scores(d, same, tau=0.85, tau_source="given")
    assert no_cv.cv is None and "cv_accuracy_mean" not in no_cv.to_dict()
