"""Open-set identification (1:K) with a threshold that knows the gallery size.

The lecture's recognition compares a probe with K enrolled people and answers the nearest one if its
distance is <= tau, else "not recognized". A stranger gets K chances to be mistaken for someone: if one
comparison falsely accepts with probability p (the per-pair false-match rate), a search of K people does
so with probability

    FAR(K) = 1 - (1 - p)^K          (per-search false-accept rate, comparisons taken as independent)

so for a target per-search FAR the per-pair rate must be p = 1 - (1 - FAR)^(1/K), and tau is the
p-quantile of the model's impostor score distribution F: tau = F^{-1}(p). F is shipped as a table of
(p, tau) rows (:class:`ImpostorTable`), measured once per model.

Comparisons of one probe with K people are not independent (some probes are close to everybody); with
positive correlation the true FAR(K) is below the formula's, so the formula errs on the strict side.

Scores are squared L2 distances d = ||f(probe) - f(x)||^2 (the lecture's d), optionally normalised by
the probe's distance to a fixed background cohort (:func:`cohort_normalised`). Templates of several
photos are the re-normalised mean of L2-normalised encodings (:func:`mean_template`), their scores
scaled by a measured factor (:func:`template_factor`) so that one table serves every photo count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from convapps.errors import InvalidInputError, ShapeError


def _check_far(far: float) -> None:
    if not (isinstance(far, int | float) and 0.0 < far < 1.0):
        raise InvalidInputError(f"the false-accept rate must be in (0, 1), got {far!r}")


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidInputError(f"the gallery size K must be an integer >= 1, got {k!r}")


def per_pair_rate(far: float, k: int) -> float:
    """The per-pair false-match rate p that gives a per-search false-accept rate ``far`` with K people.

        p = 1 - (1 - FAR)^(1/K)

    computed as ``-expm1(log1p(-FAR) / K)`` (exact for tiny rates). K = 1 gives p = FAR; for small FAR,
    p ~ FAR / K + FAR^2 / (2K) (FAR 1%, K = 1,680: p = 5.98e-6).

    Raises:
        InvalidInputError: ``far`` not in (0, 1) or ``k`` not an integer >= 1.
    """
    _check_far(far)
    _check_k(k)
    return float(-math.expm1(math.log1p(-far) / int(k)))


def per_search_far(p: float, k: int) -> float:
    """The per-search false-accept rate of K independent comparisons at per-pair rate p: 1 - (1 - p)^K.

    The inverse of :func:`per_pair_rate`.

    Raises:
        InvalidInputError: ``p`` not in (0, 1) or ``k`` not an integer >= 1.
    """
    _check_far(p)
    _check_k(k)
    return float(-math.expm1(int(k) * math.log1p(-p)))


@dataclass(frozen=True)
class ImpostorTable:
    """The impostor score distribution F of one model as rows (p_i, tau_i): F(tau_i) = p_i.

    ``p`` strictly increasing in (0, 1), ``tau`` non-decreasing and >= 0 (squared L2 units, or the
    normalised score's units); at least two rows.
    """

    p: tuple[float, ...]
    tau: tuple[float, ...]

    def __post_init__(self) -> None:
        p, tau = np.asarray(self.p, np.float64), np.asarray(self.tau, np.float64)
        if p.ndim != 1 or p.shape != tau.shape or len(p) < 2:
            raise ShapeError(f"an impostor table needs >= 2 rows of (p, tau), got {p.shape} and {tau.shape}")
        if not (np.all(np.isfinite(p)) and np.all(np.isfinite(tau))):
            raise InvalidInputError("an impostor table must hold finite numbers only")
        if p[0] <= 0 or p[-1] >= 1 or np.any(np.diff(p) <= 0):
            raise InvalidInputError("impostor table rates p must increase strictly inside (0, 1)")
        if tau[0] < 0 or np.any(np.diff(tau) < 0):
            raise InvalidInputError("impostor table thresholds tau must be >= 0 and non-decreasing in p")

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[float]]) -> ImpostorTable:
        """A table from ``[(p, tau), ...]`` rows (the shipped JSON's ``"rows"``)."""
        if any(len(r) != 2 for r in rows):
            raise ShapeError("every impostor table row must be a (p, tau) pair")
        return cls(tuple(float(r[0]) for r in rows), tuple(float(r[1]) for r in rows))

    def covers(self, p: float) -> bool:
        """Whether ``p`` lies inside the measured range [p_0, p_last]."""
        return self.p[0] <= p <= self.p[-1]

    def tau_at(self, p: float) -> float:
        """tau = F^{-1}(p), linear in log p between rows (monotone).

        Outside the table: above the last row tau is the last row's (a smaller tau than the truth:
        stricter); below the first row the first segment's line in log p is extended, clipped at 0.
        For a log-concave F (Gaussian-like tails) tau is convex in log p and this line lies below the
        true tau, so the extrapolation errs on the strict side (fewer false accepts than asked for).

        Raises:
            InvalidInputError: ``p`` not in (0, 1).
        """
        _check_far(p)
        logs = np.log(np.asarray(self.p))
        taus = np.asarray(self.tau)
        x = math.log(p)
        if x >= logs[-1]:
            return float(taus[-1])
        if x >= logs[0]:
            return float(np.interp(x, logs, taus))
        slope = (taus[1] - taus[0]) / (logs[1] - logs[0])
        return float(max(0.0, taus[0] + slope * (x - logs[0])))

    def rate_at(self, tau: float) -> float:
        """F(tau): the per-pair rate at threshold ``tau``, the inverse of :meth:`tau_at` inside the table
        (clamped to [p_0, p_last] outside it; flat stretches of tau give the largest p)."""
        taus = np.asarray(self.tau)
        logs = np.log(np.asarray(self.p))
        idx = int(np.searchsorted(taus, tau, side="right"))
        if idx == 0:
            return float(self.p[0])
        if idx >= len(taus):
            return float(self.p[-1])
        t0, t1 = taus[idx - 1], taus[idx]
        return float(math.exp(logs[idx - 1] + (logs[idx] - logs[idx - 1]) * (tau - t0) / (t1 - t0)))


@dataclass(frozen=True)
class OpenSetThreshold:
    """The tau chosen for a search of ``k`` people at a per-search false-accept rate ``far``."""

    tau: float
    far: float
    k: int
    p: float
    extrapolated: bool

    @property
    def reason(self) -> str:
        """One line for answers: ``"tau 0.17: 1,680 people, FAR 1% per search"``."""
        people = "1 person" if self.k == 1 else f"{self.k:,} people"
        note = " (beyond the calibrated range, extrapolated strictly)" if self.extrapolated else ""
        return f"tau {self.tau:.2f}: {people}, FAR {self.far * 100:g}% per search{note}"


def openset_tau(table: ImpostorTable, *, far: float, k: int) -> OpenSetThreshold:
    """tau for a gallery of K people at per-search rate ``far``: tau = F^{-1}(1 - (1 - FAR)^(1/K)).

    Raises:
        InvalidInputError: ``far`` not in (0, 1) or ``k`` not an integer >= 1.
    """
    p = per_pair_rate(far, k)
    return OpenSetThreshold(tau=table.tau_at(p), far=float(far), k=int(k), p=p, extrapolated=p < table.p[0])


def mean_template(encodings: ArrayLike) -> NDArray[np.float64]:
    """One person's template from N encodings ``(N, D)`` -> ``(D,)``.

        t = r * m / ||m||,   m = (1/N) sum_j f(x_j) / ||f(x_j)||,   r = (1/N) sum_j ||f(x_j)||

    the mean direction of the encodings, scaled back to their mean norm (dlib's encodings are not unit
    vectors: ~1.42 +- 0.07 on LFW), so squared-L2 thresholds keep their units. A departure from the
    lecture, which compares with single photos. One encoding is returned as is.

    Raises:
        ShapeError: not ``(N, D)`` with N >= 1.
        InvalidInputError: an encoding of norm 0, or encodings whose directions cancel out.
    """
    x = np.asarray(encodings, np.float64)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ShapeError(f"expected encodings of shape (N, D) with N >= 1, got {x.shape}")
    norms = np.linalg.norm(x, axis=1)
    if np.any(norms == 0) or not np.all(np.isfinite(norms)):
        raise InvalidInputError("cannot build a template from an encoding of norm 0 (or not finite)")
    m = (x / norms[:, None]).mean(axis=0)
    length = float(np.linalg.norm(m))
    if length < 1e-12:
        raise InvalidInputError("the encodings' directions cancel out: no mean template")
    return np.asarray(m / length * norms.mean())


def cohort_normalised(
    distances: ArrayLike, cohort_distances: ArrayLike, *, n: int, factors: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Scores divided by each probe's distance to a fixed background cohort (a departure from the
    lecture's plain d; the open-set default).

        s(q, k) = g_k d(q, k) / c(q),   c(q) = (1/n) sum of the n smallest d(q, b_m) over the cohort b_1..b_M

    A probe that lies close to many faces (a "hub", accepted too often by plain d) gets a small c and
    is judged more strictly; c depends on the probe only, so s stays a per-pair score and
    :func:`openset_tau` applies to it. ``factors`` g_k (default 1) put templates of several photos on
    the scale of one photo (:func:`template_factor`).

    Shapes: ``distances`` ``(P, K)``, ``cohort_distances`` ``(P, M)``, ``factors`` ``(K,)`` -> ``(P, K)``.

    Raises:
        ShapeError: not 2-D, different numbers of probes, or ``factors`` not ``(K,)``.
        InvalidInputError: ``n`` not in 1..M, or a probe at distance 0 from n cohort members.
    """
    d = np.asarray(distances, np.float64)
    c = np.asarray(cohort_distances, np.float64)
    if d.ndim != 2 or c.ndim != 2 or d.shape[0] != c.shape[0]:
        raise ShapeError(f"expected (P, K) distances and (P, M) cohort distances, got {d.shape} and {c.shape}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= c.shape[1]:
        raise InvalidInputError(f"n must be an integer in 1..{c.shape[1]} (the cohort size), got {n!r}")
    g = np.ones(d.shape[1]) if factors is None else np.asarray(factors, np.float64)
    if g.shape != (d.shape[1],):
        raise ShapeError(f"expected one factor per enrolled person ({d.shape[1]},), got {g.shape}")
    scale = np.partition(c, n - 1, axis=1)[:, :n].mean(axis=1)
    if np.any(scale <= 0):
        raise InvalidInputError("a probe coincides with the cohort (cohort distance 0): cannot normalise")
    return np.asarray(d * g[None, :] / scale[:, None])


def template_factor(photos: int, factors: Sequence[float]) -> float:
    """g(m): the factor that puts the score of an m-photo mean template on the one-photo scale.

    A template averages away part of the photos' own scatter, so it lies closer to every probe,
    strangers included: on LFW training people the impostor score quantiles of 3-photo templates are
    ~12% below those of single photos, at every quantile. ``factors`` are the measured ratios for
    m = 1, 2, ... (``factors[0]`` = 1); more photos than measured use the last factor.

    Raises:
        InvalidInputError: ``photos`` < 1 or no factors.
    """
    if isinstance(photos, bool) or not isinstance(photos, int | np.integer) or photos < 1:
        raise InvalidInputError(f"the number of photos must be an integer >= 1, got {photos!r}")
    if not factors:
        raise InvalidInputError("give at least one template factor (for one photo)")
    return float(factors[min(int(photos), len(factors)) - 1])
