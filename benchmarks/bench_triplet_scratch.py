"""Benchmark 1 of the triplet study: a compact CNN trained from scratch with the triplet loss (semi-hard
mining by default) on LFW View 1 training people, within a fixed CPU budget, next to the same network untrained and an
eigenfaces baseline (PCA on the pixels of the same 64x64 chips). tau on pairsDevTrain, accuracy on
pairsDevTest.

    .venv/bin/python benchmarks/bench_triplet_scratch.py [--minutes 30] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from _triplet_common import CACHE, LFW, OUT, check_data, machine_line
from convapps.face.chip_cache import ChipCache
from convapps.face.lfw import pair_distances, pair_images, pair_index
from convapps.face.metrics import best_threshold, verification_report
from convapps.face.training.datasets import view1_identities
from convapps.face.training.encoder_run import (
    as_encoder,
    cnn_inputs,
    evaluate_encoder,
    new_module,
    train_face_model,
    view1_pairs,
)
from convapps.face.training.triplet import TripletTrainConfig


def eigenfaces(n_components: int = 128) -> tuple[float, float]:
    """PCA on the pixels of the training chips (64x64 RGB), whitened projections, squared L2; (tau, DevTest acc)."""
    train, _ = view1_identities(LFW, seed=0)
    cache = ChipCache.for_lfw(LFW, CACHE)
    x = cnn_inputs(train.images, cache, size=64).flatten(1).double()
    mean = x.mean(0)
    _, s, v = torch.linalg.svd(x - mean, full_matrices=False)
    basis = v[:n_components].T / s[:n_components]  # whitening: unit variance per component

    def encode(images: list) -> np.ndarray:
        e = (cnn_inputs(images, cache, size=64).flatten(1).double() - mean) @ basis
        return torch.nn.functional.normalize(e, dim=1).numpy()

    dev_train, dev_test = (pair_index(pairs) for pairs in view1_pairs(LFW))
    tau = best_threshold(pair_distances(encode(dev_train.images), dev_train), dev_train.same)
    return tau, verification_report(pair_distances(encode(dev_test.images), dev_test), dev_test.same, tau=tau).accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--epochs", type=int, default=400, help="upper bound; the time budget stops first")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mining", default="semi-hard", choices=["hard", "semi-hard", "all", "random"])
    parser.add_argument("--steps", type=int, default=20, help="P x K batches per epoch")
    parser.add_argument("--p", type=int, default=16)
    parser.add_argument("--k", type=int, default=4)
    args = parser.parse_args()
    check_data()
    torch.set_num_threads(args.threads)
    train, val = view1_identities(LFW, seed=0)
    dev_train, dev_test = view1_pairs(LFW)
    cache = ChipCache.for_lfw(LFW, CACHE)
    cache.ensure_chips(train.images + val.images + pair_images(dev_train + dev_test))

    cfg = TripletTrainConfig(mining=args.mining, margin=0.2, p=args.p, k=args.k, epochs=args.epochs,
                             steps_per_epoch=args.steps, lr=2e-3, seed=0, time_budget_s=args.minutes * 60,
                             num_threads=args.threads)  # fmt: skip
    started = time.perf_counter()
    outcome = train_face_model(LFW, CACHE, OUT / "triplet_scratch", cfg, arch="cnn")
    seconds = time.perf_counter() - started
    _, acc_pca = eigenfaces()
    torch.manual_seed(0)
    untrained = evaluate_encoder(as_encoder(new_module("cnn")), LFW, cache, progress=False).figures
    report = outcome.dev_test
    assert report is not None
    result = {
        "trained_dev_test_accuracy": report.accuracy,
        "trained_auc": report.auc,
        "trained_eer": report.eer,
        "untrained_dev_test_accuracy": untrained.accuracy,
        "eigenfaces_dev_test_accuracy": acc_pca,
        "training_seconds": outcome.fit.seconds,
        "total_seconds": seconds,
        "epochs": len(outcome.fit.history),
        "best_epoch": outcome.fit.best_epoch,
        "tau": outcome.tau,
        "machine": machine_line(args.threads),
        "config": f"{args.mining} mining, alpha 0.2, P x K = {args.p} x {args.k}, {args.steps} batches/epoch, "
        f"max {args.epochs} epochs, budget {args.minutes} min",
    }
    (OUT / "triplet_scratch.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"trained / eigenfaces accuracy ratio: {report.accuracy / acc_pca:.3f}; "
          f"trained / untrained: {report.accuracy / untrained.accuracy:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
