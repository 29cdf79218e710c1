"""Gallery-size-aware thresholds (FAR per search -> per-pair rate -> tau) and mean templates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convapps.core.openset import (
    ImpostorTable,
    OpenSetThreshold,
    cohort_normalised,
    mean_template,
    openset_tau,
    per_pair_rate,
    per_search_far,
    template_factor,
)
from convapps.errors import InvalidInputError, ShapeError

TABLE = ImpostorTable(p=(1e-4, 1e-3, 1e-2), tau=(0.1, 0.2, 0.4))


def test_per_pair_rate_hand_computed() -> None:
    assert per_pair_rate(0.01, 1) == pytest.approx(0.01, rel=1e-12)
    assert per_pair_rate(0.19, 2) == pytest.approx(0.1, rel=1e-12)  # 1 - sqrt(0.81)
    assert per_pair_rate(0.271, 3) == pytest.approx(0.1, rel=1e-12)  # 1 - 0.729^(1/3)
    # the case: FAR 1% per search, 1,680 people -> ~FAR/K
    assert per_pair_rate(0.01, 1680) == pytest.approx(5.9823e-6, rel=1e-4)
    assert 0.01 / 1680 < per_pair_rate(0.01, 1680) < 0.0101 / 1680  # p ~ FAR/K + FAR^2/(2K)


def test_per_search_far_inverts_per_pair_rate() -> None:
    assert per_search_far(0.1, 2) == pytest.approx(0.19, rel=1e-12)
    for far, k in [(0.01, 10), (1e-3, 1680), (0.3, 7)]:
        assert per_search_far(per_pair_rate(far, k), k) == pytest.approx(far, rel=1e-9)


@pytest.mark.parametrize("far", [0.0, 1.0, -0.1, 1.5, math.nan])
def test_per_pair_rate_rejects_bad_far(far: float) -> None:
    with pytest.raises(InvalidInputError, match="false-accept rate"):
        per_pair_rate(far, 10)


@pytest.mark.parametrize("k", [0, -3, 2.5, True])
def test_per_pair_rate_rejects_bad_k(k: object) -> None:
    with pytest.raises(InvalidInputError, match="gallery size K"):
        per_pair_rate(0.01, k)  # type: ignore[arg-type]


def test_tau_at_rows_and_log_interpolation() -> None:
    assert TABLE.tau_at(1e-3) == pytest.approx(0.2)
    assert TABLE.tau_at(1e-2) == pytest.approx(0.4)
    assert TABLE.tau_at(10**-2.5) == pytest.approx(0.3)  # halfway in log p
    assert TABLE.tau_at(10**-3.75) == pytest.approx(0.125)


def test_tau_above_the_table_is_the_last_row() -> None:
    assert TABLE.tau_at(0.5) == pytest.approx(0.4)
    assert TABLE.covers(1e-2) and not TABLE.covers(0.5)


def test_tau_below_the_table_extends_the_first_segment_and_clips_at_zero() -> None:
    # slope 0.1 per decade: 10^-4.5 -> 0.05, 10^-5 -> 0.0, 10^-6 -> clipped to 0
    assert TABLE.tau_at(10**-4.5) == pytest.approx(0.05)
    assert TABLE.tau_at(1e-5) == pytest.approx(0.0, abs=1e-12)
    assert TABLE.tau_at(1e-6) == 0.0
    assert not TABLE.covers(1e-5)


def test_rate_at_inverts_tau_at() -> None:
    assert TABLE.rate_at(0.3) == pytest.approx(10**-2.5, rel=1e-9)
    assert TABLE.rate_at(0.1) == pytest.approx(1e-4, rel=1e-9)
    assert TABLE.rate_at(0.05) == pytest.approx(1e-4)  # clamped below
    assert TABLE.rate_at(0.9) == pytest.approx(1e-2)  # clamped above


def test_openset_tau_and_reason() -> None:
    t = openset_tau(TABLE, far=0.19, k=2)  # p = 0.1 > last row -> 0.4
    assert (t.p, t.tau, t.extrapolated) == (pytest.approx(0.1), pytest.approx(0.4), False)
    t = openset_tau(TABLE, far=0.01, k=10)  # p = 1.005e-3 -> just above 0.2
    assert t.p == pytest.approx(1 - 0.99**0.1, rel=1e-9)
    assert t.tau == pytest.approx(0.2 + 0.2 * math.log10(t.p / 1e-3), rel=1e-9)  # 0.2 per decade
    assert openset_tau(TABLE, far=0.01, k=10_000).extrapolated
    reason = OpenSetThreshold(tau=0.1734, far=0.01, k=1680, p=5.98e-6, extrapolated=False).reason
    assert reason == "tau 0.17: 1,680 people, FAR 1% per search"
    assert OpenSetThreshold(tau=0.4, far=0.005, k=1, p=0.005, extrapolated=True).reason == (
        "tau 0.40: 1 person, FAR 0.5% per search (beyond the calibrated range, extrapolated strictly)"
    )


def test_table_from_rows_and_validation() -> None:
    assert ImpostorTable.from_rows([[1e-3, 0.2], [1e-2, 0.3]]) == ImpostorTable((1e-3, 1e-2), (0.2, 0.3))
    with pytest.raises(ShapeError):
        ImpostorTable((1e-3,), (0.2,))
    with pytest.raises(ShapeError):
        ImpostorTable.from_rows([[1e-3, 0.2, 1.0], [1e-2, 0.3]])
    with pytest.raises(InvalidInputError, match="increase strictly"):
        ImpostorTable((1e-2, 1e-3), (0.2, 0.3))
    with pytest.raises(InvalidInputError, match="increase strictly"):
        ImpostorTable((0.0, 1e-3), (0.2, 0.3))
    with pytest.raises(InvalidInputError, match="non-decreasing"):
        ImpostorTable((1e-3, 1e-2), (0.3, 0.2))
    with pytest.raises(InvalidInputError, match="finite"):
        ImpostorTable((1e-3, 1e-2), (0.3, math.inf))


def test_mean_template_hand_computed() -> None:
    # directions (0.6, 0.8) and (0, 1): mean (0.3, 0.9), |.| = sqrt(0.9); mean norm (5 + 2) / 2 = 3.5
    t = mean_template([[3.0, 4.0], [0.0, 2.0]])
    np.testing.assert_allclose(t, np.array([0.3, 0.9]) / math.sqrt(0.9) * 3.5, rtol=1e-12)
    np.testing.assert_allclose(t, [1.1067972, 3.3203915], rtol=1e-7)
    np.testing.assert_allclose(mean_template([[0.1, -0.2, 0.3]]), [0.1, -0.2, 0.3])
    assert mean_template(np.ones((4, 128))).shape == (128,)


def test_mean_template_rejects_bad_input() -> None:
    with pytest.raises(ShapeError):
        mean_template(np.zeros((0, 128)))
    with pytest.raises(ShapeError):
        mean_template(np.zeros(128))
    with pytest.raises(InvalidInputError, match="norm 0"):
        mean_template([[0.0, 0.0], [1.0, 0.0]])
    with pytest.raises(InvalidInputError, match="cancel"):
        mean_template([[1.0, 0.0], [-2.0, 0.0]])


def test_cohort_normalised_hand_computed() -> None:
    d = [[0.2, 0.6], [0.3, 0.1]]
    cohort = [[0.5, 0.3, 0.9, 0.1], [0.4, 0.8, 0.2, 0.6]]
    # n = 2: probe 0 -> mean(0.1, 0.3) = 0.2; probe 1 -> mean(0.2, 0.4) = 0.3
    np.testing.assert_allclose(cohort_normalised(d, cohort, n=2), [[1.0, 3.0], [1.0, 1 / 3]])
    # n = 1: the nearest cohort member only
    np.testing.assert_allclose(cohort_normalised(d, cohort, n=1), [[2.0, 6.0], [1.5, 0.5]])
    # n = 4: all of them -> 0.45 and 0.5
    np.testing.assert_allclose(cohort_normalised(d, cohort, n=4), [[0.2 / 0.45, 0.6 / 0.45], [0.6, 0.2]])


def test_cohort_normalised_keeps_each_probes_ranking() -> None:
    rng = np.random.default_rng(0)
    d, c = rng.uniform(0.1, 1, (6, 9)), rng.uniform(0.1, 1, (6, 30))
    s = cohort_normalised(d, c, n=3)
    assert s.shape == (6, 9)
    np.testing.assert_array_equal(s.argmin(axis=1), d.argmin(axis=1))


def test_cohort_normalised_rejects_bad_input() -> None:
    with pytest.raises(ShapeError):
        cohort_normalised(np.ones((2, 3)), np.ones((3, 5)), n=1)
    with pytest.raises(ShapeError):
        cohort_normalised(np.ones(3), np.ones((1, 5)), n=1)
    with pytest.raises(InvalidInputError, match="cohort size"):
        cohort_normalised(np.ones((2, 3)), np.ones((2, 5)), n=6)
    with pytest.raises(InvalidInputError, match="cohort size"):
        cohort_normalised(np.ones((2, 3)), np.ones((2, 5)), n=0)
    with pytest.raises(InvalidInputError, match="distance 0"):
        cohort_normalised(np.ones((1, 3)), [[0.0, 0.0, 1.0]], n=2)


def test_cohort_normalised_with_factors() -> None:
    d = [[0.2, 0.6], [0.3, 0.1]]
    cohort = [[0.5, 0.3, 0.9, 0.1], [0.4, 0.8, 0.2, 0.6]]
    # n = 2 scales 0.2 and 0.3 as above; person 1 has factor 1.5
    np.testing.assert_allclose(cohort_normalised(d, cohort, n=2, factors=[1.0, 1.5]), [[1.0, 4.5], [1.0, 0.5]])
    with pytest.raises(ShapeError, match="one factor per enrolled person"):
        cohort_normalised(d, cohort, n=2, factors=[1.0, 1.5, 2.0])


def test_template_factor() -> None:
    factors = (1.0, 1.09, 1.13)
    assert template_factor(1, factors) == 1.0
    assert template_factor(3, factors) == 1.13
    assert template_factor(10, factors) == 1.13  # beyond the measured counts: the last factor
    with pytest.raises(InvalidInputError, match="number of photos"):
        template_factor(0, factors)
    with pytest.raises(InvalidInputError, match="at least one"):
        template_factor(2, ())
