"""The 1:K decision on synthetic encodings in a real SQLite gallery, with the shipped calibration."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from convapps.errors import InvalidInputError
from convapps.face.openset import calibration_for, choose_threshold, decide
from convapps.gallery import Gallery, open_gallery
from convapps.models.registry import DLIB_RESNET

CAL = calibration_for(DLIB_RESNET.model_id)


@pytest.fixture
def gallery(tmp_path: Path) -> Gallery:
    with open_gallery(tmp_path / "g.db", space=DLIB_RESNET.space) as g:
        yield g


def test_the_shipped_calibration_belongs_to_the_default_encoder() -> None:
    assert CAL is not None and CAL.model_id == DLIB_RESNET.model_id
    assert CAL.cohort.shape[1] == 128 and CAL.cohort_n >= 1 and CAL.template_factors[0] == 1.0
    assert calibration_for("some-trained-model") is None


def test_tau_falls_as_the_gallery_grows_and_says_why() -> None:
    taus = [choose_threshold(k, calibration=CAL, fallback_tau=0.36) for k in (1, 10, 100, 1000, 1680)]
    assert all(a.tau > b.tau for a, b in itertools.pairwise(taus))
    assert taus[-1].reason.endswith("1,680 people, FAR 1% per search") and taus[-1].calibrated
    assert choose_threshold(1680, far=0.001, calibration=CAL, fallback_tau=0.36).tau < taus[-1].tau
    fixed = choose_threshold(1680, tau=0.36, calibration=CAL, fallback_tau=0.5)
    assert fixed.tau == 0.36 and not fixed.calibrated and "fixed" in fixed.reason
    fallback = choose_threshold(1680, calibration=None, fallback_tau=0.5)
    assert fallback.tau == 0.5 and "not calibrated" in fallback.reason
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(InvalidInputError):
            choose_threshold(10, far=bad, calibration=CAL, fallback_tau=0.36)
    with pytest.raises(InvalidInputError):
        choose_threshold(10, tau=float("nan"), calibration=CAL, fallback_tau=0.36)


def test_decide_names_the_nearest_template_with_second_and_margin(gallery: Gallery) -> None:
    rng = np.random.default_rng(0)
    assert CAL is not None
    people = CAL.cohort[:5].astype(np.float64)
    for i, base in enumerate(people):  # three photos each: small perturbations of one face
        gallery.enroll(f"p{i}", (base + 0.03 * rng.standard_normal((3, 128))).astype(np.float32))
    probe = (people[2] + 0.03 * rng.standard_normal(128)).astype(np.float32)
    stranger = (-people[0]).astype(np.float32)  # far from everyone enrolled
    [hit, miss] = decide(gallery, np.stack([probe, stranger]), fallback_tau=0.36, calibration=CAL)
    assert hit.identity is not None and hit.identity.name == "p2"
    assert hit.second is not None and hit.second.identity.name != "p2" and hit.margin > 0
    assert hit.score <= hit.threshold.tau < hit.second.score
    assert hit.threshold.reason.endswith("5 people, FAR 1% per search")
    assert miss.identity is None and miss.nearest is not None and miss.score > miss.threshold.tau
    [plain] = decide(gallery, probe[None], tau=0.36, fallback_tau=0.36, calibration=CAL)
    assert plain.identity is not None and plain.identity.name == "p2" and plain.score == plain.nearest.distance


def test_an_empty_gallery_recognises_nobody(gallery: Gallery) -> None:
    [d] = decide(gallery, np.ones((1, 128), np.float32), fallback_tau=0.36, calibration=CAL)
    assert d.identity is None and d.nearest is None and d.score == float("inf")
