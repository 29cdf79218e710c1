"""AdrenalMNIST3D test AUC and accuracy of the 3D ConvNet, next to the MedMNIST v2 paper's 3D ResNets.

One command: ``.venv/bin/python benchmarks/bench_nd_adrenal.py [--size 28|64] [--threads 1]``.
Trains on the official train split, early-stops on the official val split (validation AUC), evaluates
once on the official test split. The in-run baseline is the majority class; the anchors are the
published figures (Yang et al., "MedMNIST v2", Scientific Data 10:41, 2023, Table of 3D results,
AdrenalMNIST3D column, 28^3 inputs): ResNet-18 (3D) AUC 0.827 / ACC 0.721, ResNet-18 (2.5D)
0.718 / 0.772, ResNet-18 (ACS) 0.839 / 0.754, ResNet-50 (3D) 0.828 / 0.745 (from memory, see RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from convapps.nd.training.runs import train_and_report
from convapps.nd.volume import volume_from_npz
from convapps.nn.conv3d import convnet3d
from convapps.training import FitConfig, OptimizerConfig

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nd" / "volumes" / "medmnist_adrenal"
PAPER = {"ResNet-18 (3D)": (0.827, 0.721), "ResNet-18 (ACS)": (0.839, 0.754), "ResNet-50 (3D)": (0.828, 0.745)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, choices=(28, 64), default=28)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    path = DATA / ("adrenalmnist3d.npz" if args.size == 28 else "adrenalmnist3d_64.npz")
    data = volume_from_npz(path)
    config = convnet3d(in_channels=1, num_classes=2).config
    if args.size == 64:  # one more pooled block keeps the cost and the final 3^3 grid of the 28^3 net
        config = convnet3d(channels=(8, 8, 16, 32, 64), kernels=(3, 3, 3, 3, 3)).config
    fit = FitConfig(
        epochs=args.epochs,
        batch_size=32,
        seed=args.seed,
        patience=args.patience,
        monitor="val_auc",
        mode="max",
        num_threads=args.threads,
        progress=True,
        optimizer=OptimizerConfig(lr=1e-3, weight_decay=1e-4),
    )
    out = Path(__file__).resolve().parent / "out" / f"adrenal{args.size}"
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = train_and_report(
        data,
        task="volume",
        model_config=config,
        fit_config=fit,
        out_dir=out,
        title=f"AdrenalMNIST3D {args.size}^3",
        normalize="unit",
        flips=True,
    )
    minutes = (time.perf_counter() - started) / 60
    cpu_minutes = (time.process_time() - cpu_started) / 60
    test = summary.outcome.test
    assert test is not None
    load_after = os.getloadavg()[0]
    print(
        f"AdrenalMNIST3D {args.size}^3 3D ConvNet: test AUC {test.macro_auc:.3f}  ACC {test.accuracy:.3f}  "
        f"(val AUC {summary.outcome.val.macro_auc:.3f}, best epoch {summary.outcome.fit.best_epoch}/"
        f"{len(summary.outcome.fit.history)}, {minutes:.1f} min wall, {cpu_minutes:.1f} min CPU, "
        f"{args.threads} thread(s), "
        f"load {load_before:.1f} -> {load_after:.1f})"
    )
    print(f"majority-class baseline (same test split): ACC {test.majority_accuracy:.3f}  AUC 0.500")
    for name, (auc, acc) in PAPER.items():
        print(
            f"vs MedMNIST v2 {name}: AUC {auc:.3f} (ratio {test.macro_auc / auc:.3f})  "
            f"ACC {acc:.3f} (ratio {test.accuracy / acc:.3f})"
        )
    params = sum(p.numel() for p in summary.outcome.model.parameters())
    print(f"parameters {params:,}; confusion (rows true normal/hyperplasia): {test.confusion}; report in {out}")


if __name__ == "__main__":
    main()
