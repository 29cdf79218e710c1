"""ECG200 official test accuracy of the 1D ConvNet (single models and their 5-fold ensemble) next to
the 1-NN Euclidean baseline run on the same split, and published deep-learning figures.

One command: ``.venv/bin/python benchmarks/bench_nd_ecg200.py [--threads 1]``.
Published anchors (UCR archive, Fawaz et al. 2019 "Deep learning for time series classification: a
review", mean over runs): FCN 0.889, ResNet 0.874; the issue's target is >= 0.90.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from convapps.io.signals import read_ucr
from convapps.nd.datasets import normalize
from convapps.nd.training.ensemble import train_fold_ensemble
from convapps.nn.convnet import ConvNetConfig
from convapps.training import FitConfig, OptimizerConfig
from nd_bench_common import ECG, load_note, one_nn_euclidean

ARCHS = {
    "convnet": ConvNetConfig(ndim=1, channels=(64, 128, 128), kernels=(7, 5, 3)),
    "fcn": ConvNetConfig(ndim=1, channels=(128, 256, 128), kernels=(7, 5, 3), pool=1, dropout=0.0),
}
PUBLISHED = {"FCN (Fawaz 2019)": 0.889, "ResNet (Fawaz 2019)": 0.874, "target": 0.90}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--arch",
        choices=sorted(ARCHS),
        default="convnet",
        help="convnet: our 1D ConvNet (conv-BN-ReLU-pool x3); fcn: Wang et al. 2017's FCN "
        "(128/256/128 filters, no pooling, kernels 7/5/3 for 'same' padding)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    train = read_ucr(ECG / "ucr_ecg200" / "ECG200_TRAIN.txt")
    test = read_ucr(ECG / "ucr_ecg200" / "ECG200_TEST.txt", classes=train.classes)
    x, xt = normalize(train.x[:, None], "zscore"), normalize(test.x[:, None], "zscore")
    started, cpu = time.perf_counter(), time.process_time()
    result = train_fold_ensemble(
        x,
        train.y,
        train.classes,
        xt,
        test.y,
        folds=args.folds,
        jitter=True,
        model_config=ARCHS[args.arch],
        fit_config=FitConfig(
            epochs=200,
            batch_size=16,
            patience=40,
            seed=args.seed,
            progress=False,
            num_threads=args.threads,
            optimizer=OptimizerConfig(lr=1e-3, weight_decay=1e-4),
        ),
    )
    wall, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    nn_acc = float((one_nn_euclidean(x, train.y, xt) == test.y).mean())
    accs = [m.accuracy for m in result.members]
    ens = result.ensemble
    note = load_note(args.threads, load)
    print(
        f"ECG200 1D {args.arch} {args.folds}-fold ensemble: test accuracy {ens.accuracy:.3f}  "
        f"macro AUC {ens.macro_auc:.3f}  ({wall / 60:.1f} min wall, {cpu_s / 60:.1f} min CPU for "
        f"{args.folds} models; {note})"
    )
    member_auc = statistics.fmean(m.macro_auc for m in result.members)
    print(
        f"single models: accuracy {statistics.fmean(accs):.3f} ± {statistics.stdev(accs):.3f} "
        f"(min {min(accs):.2f}, max {max(accs):.2f}); macro AUC {member_auc:.3f}"
    )
    ratio = ens.accuracy / nn_acc
    print(f"1-NN Euclidean (same run, same split): accuracy {nn_acc:.3f}; ratio ensemble / 1-NN {ratio:.3f}")
    print(f"majority class: {ens.majority_accuracy:.3f}; confusion {ens.confusion} (rows true {list(train.classes)})")
    for name, value in PUBLISHED.items():
        print(f"vs {name} {value:.3f}: ratio {ens.accuracy / value:.3f}")


if __name__ == "__main__":
    main()
