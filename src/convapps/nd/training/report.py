"""Evaluation report of a trained ``nd`` classifier: ``report.json`` and a confusion-matrix PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from convapps.training.metrics import ClassificationReport


def save_confusion_png(report: ClassificationReport, path: Path, *, title: str) -> Path:
    """Draw ``report.confusion`` (rows: true class, columns: predicted) with counts in the cells."""
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state

    matrix = np.asarray(report.confusion)
    k = len(report.classes)
    fig = Figure(figsize=(1.2 * k + 2.4, 1.2 * k + 1.8), dpi=100)
    ax = fig.add_subplot()
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(k), report.classes, rotation=45 if k > 3 else 0)
    ax.set_yticks(range(k), report.classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}\nacc {report.accuracy:.3f}  macro AUC {report.macro_auc:.3f}", fontsize=9)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(k):
        for j in range(k):
            color = "white" if matrix[i, j] > threshold else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=color)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def write_report(
    out_dir: Path, reports: dict[str, ClassificationReport], *, title: str, extra: dict[str, Any]
) -> list[Path]:
    """``report.json`` (every split's figures plus ``extra``) and ``confusion_<split>.png`` per split."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for split, report in reports.items():
        written.append(save_confusion_png(report, out_dir / f"confusion_{split}.png", title=f"{title} ({split})"))
    payload = {"title": title, **extra, "splits": {s: r.to_dict() for s, r in reports.items()}}
    (out_dir / "report.json").write_text(json.dumps(payload, indent=2, default=float))
    return [out_dir / "report.json", *written]


def summary_line(split: str, report: ClassificationReport) -> str:
    """``test: accuracy 0.910  macro AUC 0.953  (n=100, majority baseline 0.640)``."""
    return (
        f"{split}: accuracy {report.accuracy:.3f}  macro AUC {report.macro_auc:.3f}  "
        f"(n={report.n}, majority-class baseline {report.majority_accuracy:.3f})"
    )
