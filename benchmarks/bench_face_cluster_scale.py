"""How ``face cluster`` grows with the number of faces: seconds and peak memory, 13k to ~100k faces.

Faces: the 13,233 LFW encodings of ``bench_face_cluster.py`` (its cache), and copies of them with Gaussian
noise (sigma 0.03 per dimension: ~0.23 of squared distance from the original, about a same-person distance),
as if every person had been photographed again: the number of faces grows, the number of people does not,
as in a family archive. (Rotated copies would make new people, but they leave the region of the encoder's
background cohort, so the cohort normalisation, rightly, no longer applies to them.) The default method (average
linkage on cohort-normalised distances, cut 0.825), timed in its stages: the k-nearest-neighbour graph
(exact, blocked matrix products), the cohort weights and the merges. Peak memory: the process's maximum
resident set (``ru_maxrss``) per run, each size in a fresh process.

    .venv/bin/python benchmarks/bench_face_cluster_scale.py [--copies 1,2,4,8]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "benchmarks" / "out" / "gallery_openset" / "embeddings.npz"


def faces(copies: int) -> np.ndarray:
    with np.load(CACHE, allow_pickle=False) as data:
        x = np.asarray(data["embeddings"], dtype=np.float32)
    rng = np.random.default_rng(0)
    parts = [x] + [x + rng.normal(0.0, 0.03, x.shape).astype(np.float32) for _ in range(copies - 1)]
    return np.concatenate(parts)


def child(copies: int) -> None:
    from convapps.face.archive.clustering import ClusterConfig, average_linkage, cohort_weights, knn_graph
    from convapps.face.openset import calibration_for
    from convapps.models.registry import DLIB_RESNET

    x = faces(copies)
    calibration = calibration_for(DLIB_RESNET.model_id)
    assert calibration is not None
    config = ClusterConfig()
    t0 = time.perf_counter()
    knn_graph(x, config.neighbours)
    t1 = time.perf_counter()
    w = cohort_weights(x, calibration.cohort, calibration.cohort_n)
    t2 = time.perf_counter()
    labels = average_linkage(x, config.cut, config.neighbours, w)  # builds its graph again: merges = total - knn
    t3 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "faces": len(x),
                "groups": len(np.unique(labels)),
                "knn": t1 - t0,
                "cohort": t2 - t1,
                "merges": (t3 - t2) - (t1 - t0),
                "total": t3 - t1,  # what face cluster spends: cohort weights, then linkage (its graph, merges)
                "peak_mb": peak_mb,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", default="1,2,4,8")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    import os

    print(f"load before {os.getloadavg()[0]:.2f}")
    for copies in (int(c) for c in args.copies.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(copies)], check=True, capture_output=True, text=True
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{r['faces']:>7,} faces -> {r['groups']:,} groups: {r['total']:.1f} s (kNN graph {r['knn']:.1f} s, "
            f"cohort {r['cohort']:.1f} s, merges {r['merges']:.1f} s), peak {r['peak_mb']:.0f} MB",
            flush=True,
        )
    print(f"load after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
