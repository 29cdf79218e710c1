"""Helpers shared by the ``bench_nd_*`` scripts: the 1-NN Euclidean baseline of the UCR archive, the
machine-load note every figure carries, and runs of several methods x seeds in worker processes with a
mean +- spread table."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ECG = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nd" / "ecg"


def one_nn_euclidean(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """Predicted labels of the UCR archive's standard baseline: 1-nearest neighbour, Euclidean distance."""
    a, b = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    d = (b**2).sum(1)[:, None] - 2 * b @ a.T + (a**2).sum(1)[None, :]
    return y_train[d.argmin(axis=1)]


def load_note(threads: int, before: float) -> str:
    """``1 thread, load 3.1 -> 4.0`` (1-minute load average before and after, 2-core machine)."""
    return f"{threads} torch thread(s), 1-min load {before:.1f} -> {os.getloadavg()[0]:.1f} on 2 cores"


@dataclass(frozen=True)
class Run:
    """One method on one seed: test figures (mean over folds for a cross-validation) and its cost."""

    method: str
    seed: int
    accuracy: float
    auc: float
    seconds: float
    cpu_seconds: float


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def timed(method: str, seed: int, work: Callable[[], tuple[float, float]]) -> Run:
    """Run ``work`` (returning accuracy, AUC) and wrap its figures with its wall and CPU time."""
    started, cpu = time.perf_counter(), time.process_time()
    accuracy, auc = work()
    return Run(method, seed, accuracy, auc, time.perf_counter() - started, time.process_time() - cpu)


def run_all(task: Callable[[str, int], Run], methods: list[str], seeds: list[int], workers: int) -> list[Run]:
    """``task(method, seed)`` for every pair, ``workers`` processes at a time (one torch thread each);
    prints each run as it finishes."""
    pairs = [(m, s) for s in seeds for m in methods]
    runs: list[Run] = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_one_thread) as pool:
        futures = [pool.submit(task, m, s) for m, s in pairs]
        for future in futures:
            run = future.result()
            runs.append(run)
            print(
                f"  {run.method:11s} seed {run.seed}: accuracy {run.accuracy:.3f}  AUC {run.auc:.3f}  "
                f"{run.seconds:.0f} s wall, {run.cpu_seconds:.0f} s CPU",
                flush=True,
            )
    return runs


def summary(runs: list[Run], methods: list[str]) -> list[str]:
    """One line per method: accuracy and AUC as mean +- sample std (min-max) over seeds, time per run."""
    lines = []
    for method in methods:
        mine = [r for r in runs if r.method == method]
        if not mine:
            continue
        acc = [r.accuracy for r in mine]
        auc = [r.auc for r in mine]
        spread = statistics.stdev(acc) if len(acc) > 1 else 0.0
        auc_spread = statistics.stdev(auc) if len(auc) > 1 else 0.0
        lines.append(
            f"{method:11s} accuracy {statistics.fmean(acc):.3f} ± {spread:.3f} (min {min(acc):.3f}, max "
            f"{max(acc):.3f})  AUC {statistics.fmean(auc):.3f} ± {auc_spread:.3f}  time per run "
            f"{statistics.fmean(r.seconds for r in mine):.0f} s wall, "
            f"{statistics.fmean(r.cpu_seconds for r in mine):.0f} s CPU  ({len(mine)} seeds)"
        )
    return lines


def bench_main(doc: str, title: str, task: Callable[[str, int], Run], methods: list[str], out: Path) -> None:
    """The command line every ``bench_nd_*`` script shares: ``--seeds``, ``--workers``, ``--methods`` (a subset
    of ``methods``); runs them, prints the table and writes every run to ``out`` (JSON)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="processes at a time, one torch thread each")
    parser.add_argument("--methods", default=",".join(methods))
    args = parser.parse_args()
    chosen = args.methods.split(",")
    unknown = set(chosen) - set(methods)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; choose from {','.join(methods)}")
    print(f"{title}, {args.seeds} seeds, {args.workers} workers; load before {os.getloadavg()}", flush=True)
    runs = run_all(task, chosen, list(range(args.seeds)), args.workers)
    print("\n".join(summary(runs, chosen)))
    print(f"load after {os.getloadavg()}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([asdict(r) for r in runs], indent=1))
