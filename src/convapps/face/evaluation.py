"""Face verification on LFW pairs: one evaluation for dlib's pretrained pipeline, trained encoders and
Siamese heads.

Pairs are scored by a :class:`~convapps.face.scoring.PairScorer`, then :mod:`convapps.face.metrics`
gives the figures:

- ``view1``: tau is chosen on ``pairsDevTrain.txt`` (best accuracy), the figures are computed on
  ``pairsDevTest.txt`` at that tau (the protocol of every trained model);
- a pairs file with several folds (``view2``: ``pairs.txt``, 10 folds): k-fold cross-validated accuracy
  (tau chosen on the other folds), plus the figures of all pairs at the scorer's own tau (the model's
  default, chosen on View 1) or a given one.

Every report holds accuracy at tau, ROC curve and AUC, EER and TAR at FAR = 1e-3, and the images
where no face was found (the whole image stood in for the face).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from convapps.face.lfw import FacePair, limit_pairs, pair_index, read_pairs
from convapps.face.metrics import (
    CrossValidation,
    VerificationReport,
    best_threshold,
    cross_validate,
    roc_curve,
    verification_report,
)
from convapps.face.scoring import PairScorer

LfwProtocol = Literal["view1", "view2"]
PROTOCOL_FILES: dict[str, tuple[str, ...]] = {
    "view1": ("pairsDevTrain.txt", "pairsDevTest.txt"),
    "view2": ("pairs.txt",),
}


@dataclass(frozen=True)
class LfwReport:
    """Verification figures of one scorer on one set of pairs (see the module doc)."""

    protocol: str
    scorer: str
    tau_source: str
    figures: VerificationReport
    cv: CrossValidation | None
    far: NDArray[np.float64]
    tar: NDArray[np.float64]
    scores: NDArray[np.float64]
    same: NDArray[np.bool_]
    no_face: tuple[str, ...] = ()

    @property
    def n_pairs(self) -> int:
        """Number of pairs the figures are computed on."""
        return len(self.scores)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready figures (no per-pair arrays)."""
        out: dict[str, object] = {
            "protocol": self.protocol,
            "scorer": self.scorer,
            "pairs": self.n_pairs,
            "tau_source": self.tau_source,
            **self.figures.to_dict(),
        }
        if self.cv is not None:
            out |= {
                "cv_accuracy_mean": self.cv.mean,
                "cv_accuracy_std": self.cv.std,
                "fold_accuracies": list(self.cv.fold_accuracies),
                "fold_thresholds": list(self.cv.fold_thresholds),
            }
        return out | {"no_face_images": list(self.no_face)}


def report_from_scores(
    scores: ArrayLike,
    same: ArrayLike,
    *,
    tau: float,
    tau_source: str,
    folds: ArrayLike | None = None,
    protocol: str = "pairs",
    scorer: str = "",
    no_face: Sequence[str] = (),
) -> LfwReport:
    """The report of pair ``scores`` ``(M,)`` with labels ``same`` ``(M,)`` at ``tau``; with ``folds`` ``(M,)``
    holding two or more folds, also the k-fold cross-validated accuracy."""
    d = np.asarray(scores, dtype=np.float64)
    s = np.asarray(same).astype(bool)
    far, tar, _ = roc_curve(d, s)
    f = None if folds is None else np.asarray(folds)
    cv = cross_validate(d, s, f) if f is not None and len(np.unique(f)) > 1 else None
    figures = verification_report(d, s, tau=tau)
    return LfwReport(protocol, scorer, tau_source, figures, cv, far, tar, d, s, tuple(no_face))


def evaluate_pairs(
    scorer: PairScorer, pairs: Sequence[FacePair], *, tau: float | None = None, protocol: str = "pairs"
) -> LfwReport:
    """Score ``pairs`` once; k-fold over their folds (when there are several) and the figures at ``tau``
    (default: the scorer's own threshold)."""
    index = pair_index(pairs)
    scores, no_face = scorer.score(index)
    source = "given" if tau is not None else f"the default of {scorer.label}"
    return report_from_scores(
        scores,
        index.same,
        tau=scorer.default_tau if tau is None else tau,
        tau_source=source,
        folds=index.folds,
        protocol=protocol,
        scorer=scorer.label,
        no_face=no_face,
    )


def evaluate_view1(
    scorer: PairScorer,
    dev_train: Sequence[FacePair],
    dev_test: Sequence[FacePair],
    *,
    tau: float | None = None,
) -> LfwReport:
    """LFW View 1: tau with the best accuracy on ``dev_train`` (unless given), figures on ``dev_test``."""
    source = "given"
    if tau is None:
        train = pair_index(dev_train)
        train_scores, _ = scorer.score(train)
        tau = best_threshold(train_scores, train.same)
        source = "best accuracy on pairsDevTrain.txt"
    index = pair_index(dev_test)
    scores, no_face = scorer.score(index)
    return report_from_scores(
        scores, index.same, tau=tau, tau_source=source, protocol="view1", scorer=scorer.label, no_face=no_face
    )


def evaluate_lfw(
    scorer: PairScorer,
    *,
    root: Path | None = None,
    protocol: LfwProtocol = "view1",
    pairs_file: Path | None = None,
    tau: float | None = None,
    limit: int | None = None,
) -> LfwReport:
    """Run ``protocol`` on the pairs files of the LFW folder ``root``, or the k-fold protocol on ``pairs_file``.

    ``limit`` keeps the first ``limit`` same-person and ``limit`` different-person pairs of each fold of
    each file (quick runs).
    """
    from convapps.errors import InvalidInputError

    def load(path: Path) -> list[FacePair]:
        pairs = read_pairs(path)
        return pairs if limit is None else limit_pairs(pairs, limit)

    if pairs_file is not None:
        return evaluate_pairs(scorer, load(pairs_file), tau=tau, protocol=str(pairs_file.name))
    if root is None:
        raise InvalidInputError("give an LFW folder (with its pairs files) or a pairs file")
    if protocol == "view2":
        return evaluate_pairs(scorer, load(root / "pairs.txt"), tau=tau, protocol="view2")
    dev_train, dev_test = (load(root / name) for name in PROTOCOL_FILES["view1"])
    return evaluate_view1(scorer, dev_train, dev_test, tau=tau)
