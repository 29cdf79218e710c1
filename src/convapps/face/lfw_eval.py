"""Evaluate a face pipeline on LFW pairs: encode every image once, then the official 10-fold protocol,
the accuracy at the fixed default tau, the ROC curve and its AUC.

Images where no face is found still count: the whole image is taken as the face box, and they are listed
in the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.core.distances import squared_l2_distance
from convapps.face.lfw import CrossValidation, Pair, accuracy_at, auc, cross_validate, roc_curve
from convapps.face.pipeline import FaceConfig


@dataclass(frozen=True)
class LfwReport:
    """Result of :func:`evaluate_lfw`."""

    n_pairs: int
    cv: CrossValidation
    tau: float
    accuracy_at_tau: float
    auc: float
    fpr: NDArray[np.float64]
    tpr: NDArray[np.float64]
    no_face: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "pairs": self.n_pairs,
            "cv_accuracy_mean": self.cv.mean,
            "cv_accuracy_std": self.cv.std,
            "fold_accuracies": list(self.cv.fold_accuracies),
            "fold_thresholds": list(self.cv.fold_thresholds),
            "tau": self.tau,
            "accuracy_at_tau": self.accuracy_at_tau,
            "auc": self.auc,
            "no_face_images": list(self.no_face),
        }


def pair_distances(pairs: Sequence[Pair], embeddings: dict[Path, NDArray[np.float32]]) -> NDArray[np.float64]:
    """Squared L2 distance of every pair, from per-image encodings."""
    a = np.stack([embeddings[p.path1] for p in pairs])
    b = np.stack([embeddings[p.path2] for p in pairs])
    return np.asarray(squared_l2_distance(a, b))


def report_from_distances(
    pairs: Sequence[Pair], distances: NDArray[np.float64], *, tau: float, no_face: Sequence[str] = ()
) -> LfwReport:
    """10-fold CV (folds from the pairs file), accuracy at ``tau``, ROC and AUC."""
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    fpr, tpr = roc_curve(distances, same)
    return LfwReport(
        n_pairs=len(pairs),
        cv=cross_validate(distances, same, folds),
        tau=tau,
        accuracy_at_tau=accuracy_at(distances, same, tau),
        auc=auc(fpr, tpr),
        fpr=fpr,
        tpr=tpr,
        no_face=tuple(no_face),
    )


def evaluate_lfw(
    pairs: Sequence[Pair],
    *,
    config: FaceConfig | None = None,
    model: str | None = None,
    tau: float | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> LfwReport:
    """Encode the images of ``pairs`` (largest face, whole image when none) and evaluate."""
    from dataclasses import replace

    from convapps.face.batch import encode_images
    from convapps.face.encoders import load_encoder

    cfg = replace(config or FaceConfig(), fallback_whole_image=True)
    paths = list(dict.fromkeys([p.path1 for p in pairs] + [p.path2 for p in pairs]))
    embeddings: dict[Path, NDArray[np.float32]] = {}
    no_face: list[str] = []
    for path, result in zip(
        paths,
        encode_images(paths, config=cfg, model=model, workers=workers, progress=progress, largest=True),
        strict=True,
    ):
        if result.error:
            from convapps.errors import ImageError

            raise ImageError(result.error)
        embeddings[path] = result.embeddings[0]
        if result.fallback:
            no_face.append(str(path))
    threshold = load_encoder(model).default_tau if tau is None else tau
    return report_from_distances(pairs, pair_distances(pairs, embeddings), tau=threshold, no_face=no_face)


def save_roc_png(curves: dict[str, tuple[NDArray[np.float64], NDArray[np.float64], float]], path: str | Path) -> Path:
    """Plot ROC curves ``{label: (fpr, tpr, auc)}`` (log-scale false-positive axis) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=110)
    for label, (fpr, tpr, area) in curves.items():
        ax.plot(np.maximum(fpr, 1e-4), tpr, label=f"{label} (AUC {area:.4f})")
    ax.set_xscale("log")
    ax.set_xlim(1e-3, 1.0)
    low = min(float(np.interp(1e-3, fpr, tpr)) for fpr, tpr, _ in curves.values())
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
