"""ECG200 (official split): our 1D ConvNets next to the field's standard classifiers, same split, same
process pool, over several seeds.

One command: ``.venv/bin/python benchmarks/bench_nd_ecg200.py [--seeds 5] [--workers 2]``.

Methods (``--methods``): the anchors ``minirocket`` (MiniRocket + ridge, aeon), ``dtw`` (1-NN DTW, full
window) and ``euclidean`` (1-NN), each fitted on the 100 training beats; our nets ``conv1d``, ``fcn`` and
``inception`` (``nd.architectures``), each as a 5-fold ensemble: 5 models, each trained on 4/5 of the
training beats with random shift/scale jitter and early-stopped on the other fifth, probabilities
averaged; ``hybrid``: that InceptionTime ensemble and MiniRocket, probabilities averaged with equal
weights (``nd.training.hybrid``). A seed changes the folds, the initial weights and MiniRocket's kernels
(1-NN has no seed). Nothing is tuned on the test split. Targets: our best net >= 0.90 mean accuracy,
and within 1 point of MiniRocket or ahead. Published (Fawaz et al. 2019, mean over runs): FCN 0.889, ResNet 0.874.
"""

from __future__ import annotations

from pathlib import Path

from convapps.nd.anchors import ANCHORS
from convapps.nd.architectures import ECG_NETS, HYBRID_NET
from nd_bench_common import ECG, Run, bench_main, timed

DATA = ECG / "ucr_ecg200"
OUT = Path(__file__).resolve().parent / "out" / "nd"


def task(method: str, seed: int) -> Run:
    """One method on one seed (runs in a worker process)."""
    from convapps.nd.ecg import ecg_from_ucr
    from convapps.nd.training.anchor_runs import anchor_test_report
    from convapps.nd.training.ensemble import train_fold_ensemble
    from convapps.nd.training.hybrid import hybrid_test_report
    from convapps.training import FitConfig, OptimizerConfig

    data = ecg_from_ucr(DATA / "ECG200_TRAIN.txt", DATA / "ECG200_TEST.txt", seed=seed)

    fit_config = FitConfig(
        epochs=200,
        batch_size=16,
        patience=40,
        seed=seed * 100,
        progress=False,
        num_threads=1,
        optimizer=OptimizerConfig(lr=1e-3, weight_decay=1e-4),
    )

    def work() -> tuple[float, float]:
        if method in ANCHORS:
            report = anchor_test_report(data, method, seed=seed)[0]
            return report.accuracy, report.macro_auc
        if method == "hybrid":
            hybrid = hybrid_test_report(
                data,
                model_config=ECG_NETS[HYBRID_NET],
                fit_config=fit_config,
                ensemble_folds=5,
                jitter=True,
                seed=seed,
            ).hybrid
            return hybrid.accuracy, hybrid.macro_auc
        import numpy as np

        assert data.x_test is not None and data.y_test is not None
        x, y = np.concatenate([data.x_train, data.x_val]), np.concatenate([data.y_train, data.y_val])
        result = train_fold_ensemble(
            x,
            y,
            data.classes,
            data.x_test,
            data.y_test,
            folds=5,
            jitter=True,
            model_config=ECG_NETS[method],
            fit_config=fit_config,
        )
        return result.ensemble.accuracy, result.ensemble.macro_auc

    return timed(method, seed, work)


def main() -> None:
    bench_main(__doc__, "ECG200", task, [*ANCHORS, *ECG_NETS, "hybrid"], OUT / "ecg200.json")


if __name__ == "__main__":
    main()
