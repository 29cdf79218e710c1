"""``convapps face evaluate``: score LFW pairs with a model (dlib, a trained encoder or a Siamese head) and
write the verification report folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from numpy.typing import NDArray

from convapps.face.trained_encoder import load_siamese_head, load_trained_encoder
from convapps.face.training.cache import ensure_encodings, load_encodings
from convapps.face.training.datasets import PairIndex, pair_distances, pair_index
from convapps.face.training.evaluation import best_threshold, kfold_accuracy, verification_report
from convapps.face.training.lfw import check_lfw_root, read_pairs
from convapps.face.training.report import write_report
from convapps.training.face_runs import encode_with


def pair_scores(
    root: Path, cache: Path, index: PairIndex, *, model: str | None, siamese: Path | None, progress: bool
) -> NDArray[np.float64]:
    """Distance-like score of every pair (smaller = same person): squared L2 of encodings, or ``-logit``."""
    if siamese is not None:
        head, _ = load_siamese_head(siamese)
        ensure_encodings(root, index.images, cache, progress=progress)
        enc = torch.from_numpy(load_encodings(index.images, cache))
        with torch.no_grad():
            return -head(enc[index.first], enc[index.second]).double().numpy()
    if model is None or model == "dlib":
        ensure_encodings(root, index.images, cache, progress=progress)
        return pair_distances(load_encodings(index.images, cache), index)
    encoder = load_trained_encoder(Path(model))
    return pair_distances(encode_with(encoder, root, index.images, cache, progress=progress), index)


def evaluate_protocol(
    root: Path,
    cache: Path,
    out: Path,
    *,
    model: str | None,
    siamese: Path | None,
    protocol: Literal["view1", "view2"],
    progress: bool = True,
) -> Path:
    """Write the report folder ``out`` for ``protocol``; returns the path of ``report.md``."""
    check_lfw_root(root)
    name = str(siamese) if siamese is not None else (model or "dlib_face_recognition_resnet_model_v1 (no flip)")
    details = {"scorer": ("Siamese head " if siamese is not None else "encoder ") + name}
    if protocol == "view1":
        dev_train = pair_index(read_pairs(root / "pairsDevTrain.txt"))
        dev_test = pair_index(read_pairs(root / "pairsDevTest.txt"))
        tau = best_threshold(pair_scores(root, cache, dev_train, model=model, siamese=siamese, progress=progress),
                             dev_train.same)  # fmt: skip
        scores = pair_scores(root, cache, dev_test, model=model, siamese=siamese, progress=progress)
        same = dev_test.same
        report = verification_report(scores, same, tau=tau)
        details |= {"protocol": "LFW View 1: tau chosen on pairsDevTrain.txt, figures on pairsDevTest.txt"}
    else:
        pairs = pair_index(read_pairs(root / "pairs.txt"))
        scores = pair_scores(root, cache, pairs, model=model, siamese=siamese, progress=progress)
        same = pairs.same
        folds = kfold_accuracy(scores, same, pairs.folds)
        tau = best_threshold(scores, pairs.same)
        report = replace(
            verification_report(scores, pairs.same, tau=tau),
            extra={"10-fold accuracy (mean)": float(folds.mean()), "10-fold accuracy (std)": float(folds.std())},
        )
        details |= {
            "protocol": "LFW View 2 pairs.txt: accuracy per fold with tau chosen on the 9 other folds; ROC, EER and "
            "TAR over all 6000 pairs (the tau shown is the best on all pairs)",
            "caution": "a model trained on View 1 people has seen View 2 people (the views overlap)"
            if model not in (None, "dlib") or siamese is not None
            else "dlib's ResNet was not trained on LFW",
        }
    return write_report(out, title="Face verification report", distances=scores, same=same,
                        report=report, details=details)  # fmt: skip
