"""ECG5000 stratified 5-fold cross-validated accuracy of the 1D ConvNet (the shared data holds the
500-beat training file only), next to 1-NN Euclidean on the same folds.

One command: ``.venv/bin/python benchmarks/bench_nd_ecg5000.py [--threads 1]``. Target: >= 0.93.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from convapps.io.signals import read_ucr
from convapps.nd.datasets import normalize, stratified_folds
from convapps.nd.ecg import ucr_folds
from convapps.nd.training.runs import cross_validate
from convapps.nn.convnet import ConvNetConfig
from convapps.training import FitConfig, OptimizerConfig
from nd_bench_common import ECG, load_note, one_nn_euclidean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    path = ECG / "ucr_ecg5000" / "ECG5000_TRAIN.txt"
    started, cpu = time.perf_counter(), time.process_time()
    cv = cross_validate(
        ucr_folds(path, folds=args.folds, val_fraction=0.1, seed=args.seed),
        model_config=ConvNetConfig(ndim=1, num_classes=5, channels=(64, 128, 128), kernels=(7, 5, 3)),
        fit_config=FitConfig(
            epochs=150,
            batch_size=32,
            patience=25,
            seed=args.seed,
            progress=False,
            num_threads=args.threads,
            optimizer=OptimizerConfig(lr=1e-3, weight_decay=1e-4),
        ),
    )
    wall, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    data = read_ucr(path)
    x = normalize(data.x[:, None], "zscore")
    nn = [
        float((one_nn_euclidean(x[tr], data.y[tr], x[te]) == data.y[te]).mean())
        for tr, te in stratified_folds(data.y, args.folds, seed=args.seed)
    ]
    print(
        f"ECG5000 1D ConvNet {args.folds}-fold CV accuracy {cv.accuracy:.3f} ± {cv.accuracy_std:.3f}  macro AUC "
        f"{cv.macro_auc:.3f}  ({wall / 60:.1f} min wall, {cpu_s / 60:.1f} min CPU for {args.folds} models; "
        f"{load_note(args.threads, load)})"
    )
    print("per fold: " + ", ".join(f"{r.accuracy:.3f}" for r in cv.folds))
    print(
        f"1-NN Euclidean (same run, same folds): {statistics.fmean(nn):.3f} ± {statistics.stdev(nn):.3f}; "
        f"ratio ConvNet / 1-NN {cv.accuracy / statistics.fmean(nn):.3f}"
    )
    majority = float(np.bincount(data.y).max() / len(data.y))
    print(f"majority class {majority:.3f}; target 0.93: ratio {cv.accuracy / 0.93:.3f}")
    total = np.sum([np.asarray(r.confusion) for r in cv.folds], axis=0)
    print(f"summed confusion over folds (rows true {list(data.classes)}): {total.tolist()}")


if __name__ == "__main__":
    main()
