"""Grouping unnamed faces on LFW: ours (average linkage on cohort-normalised distances) against dlib's
chinese whispers and HDBSCAN, on the same encodings, in one run.

Encodings: the default pipeline's (largest face, whole-image fallback) for all 13,233 LFW images, cached
by ``bench_gallery_openset.py --encode-only`` (run here first when the cache is missing, ~10 min).
Labels: the person each image is filed under.

Every method's threshold is chosen on LFW View 1 TRAINING people only (peopleDevTrain.txt, less the
one-image people of the shipped background cohort: the threshold with the best BCubed F1 on their
images); each anchor is also shown at its usual setting (chinese whispers 0.5, as dlib's example and
face_recognition users run it; HDBSCAN's default min_cluster_size 5). Ours normalises distances with the
cohort shipped with the encoder (``models/data``: encodings of peopleDevTrain one-image people).

The chosen thresholds are then scored, unchanged, on the disjoint View 1 TEST people (peopleDevTest.txt), on
all 13,233 images (5,749 people, 4,069 of them with one image) and on the 9,164 images of the 1,680 people
with >= 2 images. Figures: pairwise precision/recall/F1 and BCubed precision/recall/F1
(``convapps.core.cluster_scores``), number of groups, seconds.
Target: ours >= the best anchor + 3 points of BCubed F1.

    .venv/bin/python benchmarks/bench_face_cluster.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench_openset_common import cohort_people
from convapps.core.cluster_scores import ClusterScores, cluster_scores
from convapps.face.archive.clustering import ClusterConfig, ClusterMethod, cluster_encodings
from convapps.face.lfw import read_people
from convapps.face.openset import calibration_for
from convapps.models.registry import DLIB_RESNET

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "data" / "faces" / "lfw"
CACHE = REPO / "benchmarks" / "out" / "gallery_openset" / "embeddings.npz"
OUT = REPO / "benchmarks" / "out" / "face_cluster"

SWEEP: dict[ClusterMethod, list[float]] = {
    "linkage": [0.7, 0.75, 0.8, 0.825, 0.85, 0.875, 0.9, 0.95],
    "chinese-whispers": [0.35, 0.4, 0.425, 0.45, 0.475, 0.5, 0.55],
    "hdbscan": [2, 3, 4, 5],
}
USUAL: dict[ClusterMethod, float] = {"chinese-whispers": 0.5, "hdbscan": 5}


def load() -> tuple[np.ndarray, np.ndarray]:
    """Encodings ``(13233, 128)`` and the person of each, from the cache (filled first if missing)."""
    if not CACHE.is_file():
        script = REPO / "benchmarks" / "bench_gallery_openset.py"
        subprocess.run([sys.executable, str(script), "--encode-only"], check=True)
    with np.load(CACHE, allow_pickle=False) as data:
        keys = data["keys"]
        emb = data["embeddings"].astype(np.float32)
    people = np.array([k.split("/")[1] for k in keys])
    return emb, people


def score(emb: np.ndarray, people: np.ndarray, method: ClusterMethod, cut: float) -> tuple[ClusterScores, float]:
    started = time.perf_counter()
    calibration = calibration_for(DLIB_RESNET.model_id)
    assert calibration is not None
    labels = cluster_encodings(
        emb, ClusterConfig(method=method, threshold=cut), cohort=calibration.cohort, cohort_n=calibration.cohort_n
    )
    return cluster_scores(labels, people), time.perf_counter() - started


def line(name: str, s: ClusterScores, seconds: float) -> str:
    return (
        f"  {name:28s} BCubed P {s.bcubed_precision:.3f} R {s.bcubed_recall:.3f} F1 {s.bcubed_f1:.3f} | pairwise "
        f"P {s.pairwise_precision:.3f} R {s.pairwise_recall:.3f} F1 {s.pairwise_f1:.3f} | {s.n_clusters} groups "
        f"({s.n_classes} people) {seconds:.1f} s"
    )


def main() -> None:
    print(f"load before {os.getloadavg()}", flush=True)
    emb, people = load()
    train = set(read_people(LFW / "peopleDevTrain.txt")) - set(cohort_people())
    test = set(read_people(LFW / "peopleDevTest.txt"))
    counts = {p: c for p, c in zip(*np.unique(people, return_counts=True), strict=True)}
    sets = {
        "train people (View 1)": np.isin(people, list(train)),
        "test people (View 1)": np.isin(people, list(test)),
        "all 13,233 images": np.ones(len(people), dtype=bool),
        "people with >= 2 images": np.array([counts[p] >= 2 for p in people]),
    }
    results: dict[str, dict[str, object]] = {}
    chosen: dict[str, tuple[ClusterMethod, float]] = {}
    mask = sets["train people (View 1)"]
    print(f"sweep on the {int(mask.sum())} images of {len(train)} training people (cohort people left out)", flush=True)
    for method, cuts in SWEEP.items():
        best = None
        for cut in cuts:
            s, sec = score(emb[mask], people[mask], method, cut)
            print(line(f"{method} {cut:g}", s, sec), flush=True)
            if best is None or s.bcubed_f1 > best[0]:
                best = (s.bcubed_f1, cut)
        assert best is not None
        chosen[f"{method} (chosen {best[1]:g})"] = (method, best[1])
        if method in USUAL:
            chosen[f"{method} (usual {USUAL[method]:g})"] = (method, USUAL[method])
    for set_name, m in sets.items():
        if set_name.startswith("train"):
            continue
        print(f"{set_name}: {int(m.sum())} images", flush=True)
        for name, (method, cut) in chosen.items():
            s, sec = score(emb[m], people[m], method, cut)
            print(line(name, s, sec), flush=True)
            results.setdefault(set_name, {})[name] = {**s.to_dict(), "seconds": round(sec, 2)}
    print(f"load after {os.getloadavg()}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cluster.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
