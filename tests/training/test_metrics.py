"""Metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convapps.errors import InvalidInputError
from convapps.training.metrics import classification_report, confusion_matrix, macro_auc, roc_auc


def test_roc_auc_hand_computed() -> None:
    # positives 0.9, 0.4; negatives 0.5, 0.1: pairs (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) -> 3/4
    assert roc_auc(np.array([1, 0, 1, 0]), np.array([0.9, 0.5, 0.4, 0.1])) == pytest.approx(0.75)
    # a tie between a positive and a negative counts one half
    assert roc_auc(np.array([1, 0]), np.array([0.3, 0.3])) == pytest.approx(0.5)
    assert roc_auc(np.array([1, 1, 0]), np.array([0.2, 0.3, 0.1])) == pytest.approx(1.0)
    assert math.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_macro_auc_one_vs_rest() -> None:
    y = np.array([0, 1, 2, 2])
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7], [0.6, 0.1, 0.3]])
    # class 0: positive 0.8 vs negatives 0.1, 0.1, 0.6 -> 1; class 1: 0.8 vs 0.1, 0.2, 0.1 -> 1;
    # class 2: positives 0.7, 0.3 vs negatives 0.1, 0.1 -> 1
    assert macro_auc(y, proba) == pytest.approx(1.0)
    proba[3] = [0.05, 0.9, 0.05]  # class 2's positive 0.05 now below both negatives; class 1 gets a 0.9 negative
    assert macro_auc(y, proba) == pytest.approx((1.0 + 2 / 3 + 0.5) / 3)
    with pytest.raises(InvalidInputError):
        macro_auc(y, proba[:2])


def test_confusion_and_report() -> None:
    y = np.array([0, 0, 1, 1, 1])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    assert confusion_matrix(y, proba.argmax(1), 2).tolist() == [[1, 1], [1, 2]]
    report = classification_report(y, proba, ["N", "A"])
    assert report.accuracy == pytest.approx(3 / 5)
    assert report.majority_accuracy == pytest.approx(3 / 5)
    assert report.macro_auc == pytest.approx(5 / 6)  # positives 0.8,0.7,0.4 vs negatives 0.1,0.6
    assert report.to_dict()["classes"] == ["N", "A"]
