"""Benchmark 3 of the triplet study: heads on the frozen pretrained dlib 128-d encodings, LFW View 2 (10 folds).

For each test fold f, everything is trained on the 6000 - 600 pairs of the 9 other folds only (never on
fold f; View 2 folds are identity-disjoint, asserted below) and the threshold is chosen on those same
training-fold pairs:

- plain: squared L2 distance of the dlib encodings (the lecture's d), tau from the 9 folds;
- projection: the residual projection head (identity map at initialisation) trained with the triplet loss
  (batch-hard, alpha = 0.2, P x K = 32 x 2, lr 3e-4) on the images of the 9 folds' pairs labelled by person
  name (LFW's unrestricted setting); 15% of those identities are held out: early stopping on their all-pairs
  AUC, and the trained head replaces the identity map only if it is more accurate on 2000 pairs of them;
- siamese-abs / siamese-chi2: the logistic head on |f_i - f_j| / chi-square features, trained on the
  9 folds' pairs (binary cross-entropy).

    .venv/bin/python benchmarks/bench_triplet_heads.py [--threads 2] [--compute-missing]

Encodings: dlib's ResNet on the pipeline's aligned chips (no flip), read from the triplet benchmarks' cache
(benchmarks/out/cache/dlib) or from the face-verification benchmark's cache
(benchmarks/out/face_cache/ours.npz, the same pipeline: largest face, whole-image fallback, no flip).
Without --compute-missing only pairs whose two encodings are cached are used (the face benchmark fills its
cache in stratified rounds, so any prefix covers all 10 folds with equal same/different counts); the
number of pairs used is printed and saved.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from _triplet_common import CACHE, LFW, OUT, check_data, machine_line
from convapps.face.chip_cache import ChipCache
from convapps.face.lfw import (
    FaceImage,
    assert_disjoint_identities,
    fold_people,
    identity_split,
    pair_distances,
    pair_index,
    read_pairs,
)
from convapps.face.metrics import accuracy_at, best_threshold
from convapps.face.training.datasets import identity_set, sample_pairs
from convapps.face.training.siamese import SiameseTrainConfig, train_siamese_head
from convapps.face.training.triplet import TripletTrainConfig, embed
from convapps.face.training.triplet import train_triplet_encoder as train_encoder
from convapps.nn.face_encoder import ProjectionHead

METHODS = ("plain", "projection", "siamese-abs", "siamese-chi2")


def cached_encodings() -> dict[FaceImage, np.ndarray]:
    """dlib encodings found in the two caches, by image."""
    known: dict[FaceImage, np.ndarray] = {}
    face_cache = OUT / "face_cache" / "ours.npz"
    if face_cache.is_file():
        z = np.load(face_cache, allow_pickle=False)
        for rel, e in zip(z["names"].tolist(), z["embeddings"], strict=True):
            stem = Path(rel).stem
            name, number = stem.rsplit("_", 1)
            known[FaceImage(name, int(number))] = e
    for f in (CACHE / "dlib").glob("*/*.npy"):
        name, number = f.stem.rsplit("_", 1)
        try:
            known[FaceImage(name, int(number))] = np.load(f)
        except (ValueError, OSError):  # a file cut short by an interrupted run
            continue
    return known


def val_pair_accuracy(head: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor, seed: int) -> float:
    """Best-threshold accuracy on 2000 balanced pairs of the held-out identities (model selection only)."""
    first, second, same = sample_pairs(labels.numpy(), n_pairs=2000, seed=seed)
    e = embed(head, x).numpy()
    d = ((e[first] - e[second]) ** 2).sum(axis=1)
    return accuracy_at(d, same, best_threshold(d, same))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4, help="projection head epochs per fold")
    parser.add_argument("--siamese-epochs", type=int, default=20)
    parser.add_argument("--compute-missing", action="store_true", help="encode every View 2 image first (slow)")
    args = parser.parse_args()
    check_data()
    torch.set_num_threads(args.threads)
    pairs = read_pairs(LFW / "pairs.txt")
    if args.compute_missing:
        ChipCache.for_lfw(LFW, CACHE).ensure_encodings(pair_index(pairs).images)
    known = cached_encodings()
    pairs = [p for p in pairs if p.first in known and p.second in known]
    index = pair_index(pairs)
    enc = np.stack([known[im] for im in index.images]).astype(np.float32)
    print(
        f"{len(pairs)} of 6000 View 2 pairs have cached encodings; per fold: "
        f"{np.bincount(index.folds, minlength=10).tolist()}",
        flush=True,
    )
    enc_t = torch.from_numpy(enc)
    plain = pair_distances(enc, index)
    acc: dict[str, list[float]] = {m: [] for m in METHODS}
    kept: list[bool] = []
    for fold in range(10):
        test = index.folds == fold
        train_folds = [f for f in range(10) if f != fold]
        assert_disjoint_identities(
            fold_people(pairs, train_folds), fold_people(pairs, [fold]), what=f"View 2 fold {fold}"
        )
        tr = ~test
        acc["plain"].append(accuracy_at(plain[test], index.same[test], best_threshold(plain[tr], index.same[tr])))

        # projection head trained with the triplet loss on the images of the training folds' pairs;
        # 15% of those identities are held out to pick the epoch (early stopping on their all-pairs AUC), and
        # the identity map is kept unless the trained head is more accurate on 2000 pairs of them
        used = np.unique(np.r_[index.first[tr], index.second[tr]])
        people = identity_set([index.images[i] for i in used])
        _, val_names = identity_split(people.names, val_fraction=0.15, seed=fold)
        val_ids = torch.tensor([people.names.index(n) for n in val_names])
        labels = torch.from_numpy(people.labels)
        is_val = torch.isin(labels, val_ids)
        x_used = enc_t[used]
        torch.manual_seed(fold)
        head = ProjectionHead()
        cfg = TripletTrainConfig(mining="hard", margin=0.2, p=32, k=2, epochs=args.epochs, lr=3e-4,
                                 weight_decay=1e-4, seed=fold, augment=False, progress=False)  # fmt: skip
        train_encoder(head, (x_used[~is_val], labels[~is_val]), (x_used[is_val], labels[is_val]), cfg)
        kept.append(val_pair_accuracy(head, x_used[is_val], labels[is_val], fold) > val_pair_accuracy(
            ProjectionHead(), x_used[is_val], labels[is_val], fold))  # fmt: skip
        if not kept[-1]:
            head = ProjectionHead()
        projected = embed(head, enc_t).numpy()
        d = pair_distances(projected, index)
        acc["projection"].append(accuracy_at(d[test], index.same[test], best_threshold(d[tr], index.same[tr])))

        for kind in ("abs", "chi2"):
            first, second = enc_t[index.first], enc_t[index.second]
            scfg = SiameseTrainConfig(kind=kind, epochs=args.siamese_epochs, batch_size=1024, lr=1e-2, seed=fold)  # type: ignore[arg-type]
            head_s, _ = train_siamese_head(first[tr], second[tr], torch.from_numpy(index.same[tr]), scfg)
            with torch.no_grad():
                score = -head_s(first, second).double().numpy()
            tau = best_threshold(score[tr], index.same[tr])
            acc[f"siamese-{kind}"].append(accuracy_at(score[test], index.same[test], tau))
        print(f"fold {fold}: " + ", ".join(f"{m} {acc[m][-1]:.4f}" for m in METHODS), flush=True)

    summary = {m: {"mean": float(np.mean(v)), "std": float(np.std(v)), "folds": v} for m, v in acc.items()}
    summary["machine"] = machine_line(args.threads)  # type: ignore[assignment]
    summary["pairs_used"] = len(pairs)  # type: ignore[assignment]
    summary["projection_trained_kept"] = kept  # type: ignore[assignment]
    print(f"projection: trained head kept (beat the identity map on held-out identities) in {sum(kept)}/10 folds")
    (OUT / "triplet_heads.json").write_text(json.dumps(summary, indent=2))
    base = summary["plain"]["mean"]
    for m in METHODS:
        s = summary[m]
        print(
            f"{m:13s} {100 * s['mean']:.2f} +- {100 * s['std']:.2f}  (vs plain {100 * (s['mean'] - base):+.2f} points)"
        )
    best = max(METHODS, key=lambda m: summary[m]["mean"])
    print(f"best: {best}")


if __name__ == "__main__":
    main()
