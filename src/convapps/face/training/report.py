"""The evaluation report folder: ``report.md`` (Markdown), ``metrics.json``, ``roc.png`` and
``distances.png`` (histograms of same/different-person pair distances)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from convapps.face.training.evaluation import VerificationReport, roc_curve


def _plots(out: Path, distances: np.ndarray, same: np.ndarray, report: VerificationReport, label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    far, tar, _ = roc_curve(distances, same)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(far, tar, label=f"{label} (AUC {report.auc:.4f})")
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_xlabel("FAR (different-person pairs accepted)")
    ax.set_ylabel("TAR (same-person pairs accepted)")
    ax.set_title("ROC curve")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "roc.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 4))
    bins = np.linspace(float(distances.min()), float(distances.max()), 50)
    ax.hist(distances[same], bins=bins, alpha=0.6, label="same person")
    ax.hist(distances[~same], bins=bins, alpha=0.6, label="different persons")
    ax.axvline(report.tau, color="k", linestyle="--", label=f"tau = {report.tau:.3f}")
    ax.set_xlabel("distance d")
    ax.set_ylabel("pairs")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "distances.png", dpi=100)
    plt.close(fig)


def write_report(
    out: Path,
    *,
    title: str,
    distances: ArrayLike,
    same: ArrayLike,
    report: VerificationReport,
    details: dict[str, str],
    label: str = "model",
) -> Path:
    """Write the report folder ``out``; returns the path of ``report.md``."""
    out.mkdir(parents=True, exist_ok=True)
    d = np.asarray(distances, dtype=np.float64)
    s = np.asarray(same).astype(bool)
    _plots(out, d, s, report, label)
    (out / "metrics.json").write_text(json.dumps({**report.to_dict(), "details": details}, indent=2))
    far_note = (
        f" (FAR resolution {report.far_resolution:.1e}: only FAR = 0 qualifies)"
        if report.far_resolution > report.far_target
        else ""
    )
    lines = [
        f"# {title}",
        "",
        *[f"- {k}: {v}" for k, v in details.items()],
        "",
        "| figure | value |",
        "|---|---|",
        f"| accuracy at tau = {report.tau:.4f} | {report.accuracy:.4f} |",
        f"| ROC AUC | {report.auc:.4f} |",
        f"| EER | {report.eer:.4f} |",
        f"| TAR at FAR = {report.far_target:g}{far_note} | {report.tar_at_far:.4f} |",
        f"| pairs (same / different) | {report.n_same} / {report.n_different} |",
        *[f"| {k} | {v:.4f} |" for k, v in report.extra.items()],
        "",
        "![ROC curve](roc.png)",
        "",
        "![Distances of same and different-person pairs](distances.png)",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
