"""Helpers shared by the ``bench_nd_*`` scripts: the 1-NN Euclidean baseline of the UCR archive and
the machine-load note every figure carries."""

from __future__ import annotations

import os
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
