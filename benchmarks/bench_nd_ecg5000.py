"""ECG5000: stratified 5-fold cross-validation of the 500-beat training file (the shared data holds no
test file), our 1D ConvNets next to the field's standard classifiers on the same folds, over seeds.

One command: ``.venv/bin/python benchmarks/bench_nd_ecg5000.py [--seeds 5] [--workers 2]``.

Per seed, the 5 folds (the seed draws them) are each the test part once; a net trains on the rest and
early-stops on 10 % of it, an anchor (``minirocket``, ``dtw``, ``euclidean``; :mod:`convapps.nd.anchors`)
fits on all of the rest; ``hybrid`` is the ``conv1d`` net of each fold and MiniRocket, probabilities
averaged with equal weights (``nd.training.hybrid``). A run's figure is the mean over its 5 folds; the
table gives mean +- std over seeds. Target: our best net within 1 point of MiniRocket or ahead.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from convapps.nd.anchors import ANCHORS
from convapps.nd.architectures import ECG_NETS, ecg_net
from nd_bench_common import ECG, Run, bench_main, timed

PATH = ECG / "ucr_ecg5000" / "ECG5000_TRAIN.txt"
OUT = Path(__file__).resolve().parent / "out" / "nd"


def task(method: str, seed: int) -> Run:
    """One method on one seed's 5 folds (runs in a worker process)."""
    from convapps.nd.ecg import ucr_folds
    from convapps.nd.training.anchor_runs import cross_validate_anchor
    from convapps.nd.training.hybrid import cross_validate_hybrid
    from convapps.nd.training.runs import cross_validate
    from convapps.training import FitConfig, OptimizerConfig

    folds = ucr_folds(PATH, folds=5, val_fraction=0.1, seed=seed)

    fit_config = FitConfig(
        epochs=150,
        batch_size=32,
        patience=25,
        seed=seed * 100,
        progress=False,
        num_threads=1,
        optimizer=OptimizerConfig(lr=1e-3, weight_decay=1e-4),
    )

    def work() -> tuple[float, float]:
        if method in ANCHORS:
            cv = cross_validate_anchor(folds, method, seed=seed)
        elif method == "hybrid":
            net = ecg_net("conv1d", in_channels=1, num_classes=5)
            cv = cross_validate_hybrid(folds, model_config=net, fit_config=fit_config, seed=seed)
        else:
            net = ecg_net(method, in_channels=1, num_classes=5)
            cv = cross_validate(folds, model_config=net, fit_config=fit_config)
        return cv.accuracy, statistics.fmean(r.macro_auc for r in cv.folds)

    return timed(method, seed, work)


def main() -> None:
    bench_main(__doc__, "ECG5000 5-fold CV", task, [*ANCHORS, *ECG_NETS, "hybrid"], OUT / "ecg5000.json")


if __name__ == "__main__":
    main()
