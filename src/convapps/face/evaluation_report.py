"""Outputs of a verification evaluation: the ROC plot, the histogram of pair scores, and the report folder
(``report.md``, ``metrics.json``, ``roc.png``, ``distances.png``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convapps.face.evaluation import LfwReport


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_roc_png(curves: dict[str, tuple[NDArray[np.float64], NDArray[np.float64], float]], path: str | Path) -> Path:
    """Plot ROC curves ``{label: (far, tar, auc)}`` (log-scale false-accept axis) to a PNG."""
    plt = _pyplot()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=110)
    for label, (far, tar, area) in curves.items():
        ax.plot(np.maximum(far, 1e-4), tar, label=f"{label} (AUC {area:.4f})")
    ax.set_xscale("log")
    ax.set_xlim(1e-3, 1.0)
    low = min(float(np.interp(1e-3, far, tar)) for far, tar, _ in curves.values())
    ax.set_ylim(max(0.0, low - 0.02), 1.002)  # zoom on the part where the curves differ
    ax.set_xlabel("false accept rate (different people with d <= tau)")
    ax.set_ylabel("true accept rate (same person with d <= tau)")
    ax.set_title("LFW verification ROC")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)
    return target


def save_distance_histogram(report: LfwReport, path: str | Path) -> Path:
    """Histograms of the scores of same-person and different-person pairs, with tau marked."""
    plt = _pyplot()
    target = Path(path)
    d, same = report.scores, report.same
    fig, ax = plt.subplots(figsize=(5, 4))
    bins = np.linspace(float(d.min()), float(d.max()), 50)
    ax.hist(d[same], bins=bins, alpha=0.6, label="same person")
    ax.hist(d[~same], bins=bins, alpha=0.6, label="different persons")
    ax.axvline(report.figures.tau, color="k", linestyle="--", label=f"tau = {report.figures.tau:.3f}")
    ax.set_xlabel("distance d")
    ax.set_ylabel("pairs")
    ax.legend()
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)
    return target


def report_markdown(report: LfwReport, *, title: str, details: dict[str, str] | None = None) -> str:
    """The Markdown of ``report.md``: the figures table, then the two plots."""
    f = report.figures
    coarse = f.far_resolution > f.far_target
    far_note = f" (FAR resolution {f.far_resolution:.1e}: only FAR = 0 qualifies)" if coarse else ""
    info = {"scorer": report.scorer, "protocol": report.protocol, "tau": report.tau_source, **(details or {})}
    cv_rows = []
    if report.cv is not None:
        k = len(report.cv.fold_accuracies)
        cv_rows = [f"| {k}-fold accuracy (tau from the other folds) | {report.cv.mean:.4f} +/- {report.cv.std:.4f} |"]
    lines = [
        f"# {title}",
        "",
        *[f"- {k}: {v}" for k, v in info.items()],
        "",
        "| figure | value |",
        "|---|---|",
        *cv_rows,
        f"| accuracy at tau = {f.tau:.4f} | {f.accuracy:.4f} |",
        f"| ROC AUC | {f.auc:.4f} |",
        f"| EER | {f.eer:.4f} |",
        f"| TAR at FAR = {f.far_target:g}{far_note} | {f.tar_at_far:.4f} |",
        f"| pairs (same / different) | {f.n_same} / {f.n_different} |",
        f"| images without a detected face (whole image used) | {len(report.no_face)} |",
        "",
        "![ROC curve](roc.png)",
        "",
        "![Distances of same and different-person pairs](distances.png)",
        "",
    ]
    return "\n".join(lines)


def write_report(
    out: Path, report: LfwReport, *, title: str = "Face verification report", details: dict[str, str] | None = None
) -> Path:
    """Write the report folder ``out``; returns the path of ``report.md``."""
    out.mkdir(parents=True, exist_ok=True)
    save_roc_png({report.scorer or "scorer": (report.far, report.tar, report.figures.auc)}, out / "roc.png")
    save_distance_histogram(report, out / "distances.png")
    (out / "metrics.json").write_text(json.dumps({**report.to_dict(), "details": details or {}}, indent=2))
    path = out / "report.md"
    path.write_text(report_markdown(report, title=title, details=details))
    return path
