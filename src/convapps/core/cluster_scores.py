"""How well a grouping of faces matches the true identities, from the contingency table
``n[c, l]`` = number of items put in cluster c whose true label is l (N items, cluster sizes
``a_c = sum_l n[c, l]``, class sizes ``b_l = sum_c n[c, l]``).

Pairwise (over unordered pairs of items)::

    TP = sum_{c,l} C(n[c,l], 2)    precision = TP / sum_c C(a_c, 2)    recall = TP / sum_l C(b_l, 2)

BCubed (Bagga & Baldwin 1998; Amigo et al. 2009), per item i with cluster C(i) and class L(i)::

    P_i = |C(i) & L(i)| / |C(i)|      R_i = |C(i) & L(i)| / |L(i)|
    P = mean_i P_i = 1/N sum_{c,l} n[c,l]^2 / a_c      R = 1/N sum_{c,l} n[c,l]^2 / b_l

F1 is the harmonic mean of precision and recall. BCubed counts every item once, so a singleton put in its
own cluster scores P_i = R_i = 1; pairwise scores ignore singletons entirely (they have no pairs), which
is why BCubed is the headline figure for archives where most people appear once. With no predicted
pairs pairwise precision is 1 (nothing was wrongly merged); with no true pairs recall is 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from convapps.errors import InvalidInputError


@dataclass(frozen=True)
class ClusterScores:
    """Pairwise and BCubed precision, recall and F1 of one grouping, with its number of clusters."""

    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    n_items: int
    n_clusters: int
    n_classes: int

    def to_dict(self) -> dict[str, float | int]:
        """The figures as a JSON-ready dict."""
        return dict(self.__dict__)


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _pairs(counts: np.ndarray) -> float:
    return float((counts * (counts - 1) / 2).sum())


def contingency(predicted: ArrayLike, truth: ArrayLike) -> np.ndarray:
    """``n[c, l]`` (int64) of predicted cluster labels against true labels (any hashable values)."""
    pred, true = np.asarray(predicted), np.asarray(truth)
    if pred.ndim != 1 or pred.shape != true.shape:
        raise InvalidInputError(f"labels must be two 1-D arrays of one length, got {pred.shape} and {true.shape}")
    if pred.size == 0:
        raise InvalidInputError("no items to score")
    _, c = np.unique(pred, return_inverse=True)
    _, t = np.unique(true, return_inverse=True)
    table = np.zeros((int(c.max()) + 1, int(t.max()) + 1), dtype=np.int64)
    np.add.at(table, (c, t), 1)
    return table


def cluster_scores(predicted: ArrayLike, truth: ArrayLike) -> ClusterScores:
    """Pairwise and BCubed scores of ``predicted`` cluster labels against ``truth`` (module formulas)."""
    n = contingency(predicted, truth).astype(np.float64)
    a, b = n.sum(axis=1), n.sum(axis=0)
    total = float(n.sum())
    tp, pred_pairs, true_pairs = _pairs(n), _pairs(a), _pairs(b)
    pp = tp / pred_pairs if pred_pairs else 1.0
    pr = tp / true_pairs if true_pairs else 1.0
    squares = n**2
    bp = float((squares / a[:, None]).sum() / total)
    br = float((squares / b[None, :]).sum() / total)
    return ClusterScores(
        pairwise_precision=pp,
        pairwise_recall=pr,
        pairwise_f1=_f1(pp, pr),
        bcubed_precision=bp,
        bcubed_recall=br,
        bcubed_f1=_f1(bp, br),
        n_items=int(total),
        n_clusters=len(a),
        n_classes=len(b),
    )
