"""AdrenalMNIST3D (official train/val/test splits): the 3D ConvNet against a 2.5D baseline, over seeds,
next to the MedMNIST v2 paper's figures.

One command: ``.venv/bin/python benchmarks/bench_nd_adrenal.py [--size 28|64] [--seeds 5] [--workers 2]``
(at 64^3 add ``--epochs 15 --patience 5``: a 3D model then takes about half an hour on one core).

* ``3d``: our 3D ConvNet (8/16/32/64 filters of 3x3x3; at 64^3 one more block, 8/8/16/32/64) on the volume;
* ``2.5d``: our 2D ConvNet (16/32/64/128 filters of 3x3, about as many weights) on the three orthogonal
  slices through the centre stacked as channels (``nd.volume.orthogonal_slices``): what a 2D network sees
  of a 3D scan.
Both train with random flips, early-stop on the official validation split (validation AUC) and are
evaluated once on the test split; a seed changes the initial weights and the batch order. The lecture's
point "3D filters for 3D data" holds if ``3d`` is ahead. Published (Yang et al., "MedMNIST v2", 2023,
28^3): ResNet-18 (3D) AUC 0.827 / ACC 0.721, ResNet-18 (2.5D) 0.718 / 0.772, ResNet-18 (ACS) 0.839 / 0.754.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from functools import partial
from pathlib import Path

from nd_bench_common import Run, run_all, summary, timed

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nd" / "volumes" / "medmnist_adrenal"
OUT = Path(__file__).resolve().parent / "out" / "nd"
METHODS = ["3d", "2.5d"]


def task(size: int, epochs: int, patience: int, method: str, seed: int) -> Run:
    """One method on one seed at one volume size (runs in a worker process)."""
    from convapps.nd.training.classifier import train_classifier
    from convapps.nd.volume import as_orthogonal_slices, volume_from_npz
    from convapps.nn.convnet import ConvNetConfig
    from convapps.training import FitConfig, OptimizerConfig

    data = volume_from_npz(DATA / ("adrenalmnist3d.npz" if size == 28 else "adrenalmnist3d_64.npz"))
    if method == "3d":
        channels = (8, 16, 32, 64) if size == 28 else (8, 8, 16, 32, 64)
        config = ConvNetConfig(ndim=3, channels=channels, kernels=(3,) * len(channels), dropout=0.3)
    else:
        data = as_orthogonal_slices(data)
        channels = (16, 32, 64, 128) if size == 28 else (16, 16, 32, 64, 128)
        config = ConvNetConfig(ndim=2, in_channels=3, channels=channels, kernels=(3,) * len(channels), dropout=0.3)
    fit = FitConfig(
        epochs=epochs,
        batch_size=32,
        seed=seed,
        patience=patience,
        monitor="val_auc",
        mode="max",
        num_threads=1,
        progress=False,
        optimizer=OptimizerConfig(lr=1e-3, weight_decay=1e-4),
    )

    def work() -> tuple[float, float]:
        test = train_classifier(data, model_config=config, fit_config=fit, flips=True).test
        assert test is not None
        return test.accuracy, test.macro_auc

    return timed(method, seed, work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, choices=(28, 64), default=28)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="processes at a time, one torch thread each")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--epochs", type=int, default=30, help="most epochs per model (64^3: 15 fit the time)")
    parser.add_argument("--patience", type=int, default=10, help="early stopping on val AUC (64^3: 5)")
    args = parser.parse_args()
    methods = args.methods.split(",")
    if set(methods) - set(METHODS):
        parser.error(f"methods are {METHODS}")
    print(f"AdrenalMNIST3D {args.size}^3, {args.seeds} seeds, {args.workers} workers; load before {os.getloadavg()}")
    runs = run_all(partial(task, args.size, args.epochs, args.patience), methods, list(range(args.seeds)), args.workers)
    print("\n".join(summary(runs, methods)))
    print(f"load after {os.getloadavg()}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"adrenal{args.size}.json").write_text(json.dumps([asdict(r) for r in runs], indent=1))


if __name__ == "__main__":
    main()
