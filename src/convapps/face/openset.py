"""The 1:K decision of face recognition, calibrated to the gallery's size.

With K people enrolled a stranger gets K chances to be mistaken for one of them, so a fixed
verification threshold names most strangers once K is large. By default the decision asks for a
per-search false-accept rate (1%) instead, and turns it into the tau of this gallery's K
(:func:`convapps.core.openset.openset_tau`). Each enrolled person is a mean template of their photos,
and each probe's scores are normalised by its distance to a fixed background cohort:

    s(q, k) = g(m_k) ||f(q) - t_k||^2 / c(q)          "recognized as k*"  <=>  s(q, k*) <= tau(K, FAR)

(:mod:`convapps.core.openset`; measured choice and calibration: ``docs/face/OPENSET.md``). A fixed
``tau`` keeps the lecture's plain rule ``min_j ||f(q) - f(x_kj)||^2 <= tau`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from convapps.core.distances import pairwise_squared_l2
from convapps.core.openset import cohort_normalised, mean_template, openset_tau, template_factor
from convapps.errors import InvalidInputError
from convapps.gallery import Gallery, Identity
from convapps.models.openset_calibration import OpenSetCalibration, load_openset_calibration
from convapps.models.registry import NETWORKS
from convapps.models.spec import FaceEncoderSpec

DEFAULT_FAR = 0.01
"""Per-search false-accept rate of the default decision: 1 stranger in 100 gets a name."""
CANDIDATES = 10
"""People re-scored with their templates per probe: the nearest ``CANDIDATES`` by nearest photo."""


@dataclass(frozen=True)
class Candidate:
    """One enrolled person as seen from a probe: squared L2 to their template, and the decision's score."""

    identity: Identity
    distance: float
    score: float


@dataclass(frozen=True)
class Threshold:
    """The tau of one search and why: ``reason`` is one line for answers."""

    tau: float
    reason: str
    calibrated: bool
    """True: ``tau`` applies to the normalised score; False: to the plain squared L2 distance."""


@dataclass(frozen=True)
class Decision:
    """The 1:K answer for one probe: ``identity`` is None when "not recognized".

    ``nearest`` / ``second`` are the two best-scoring enrolled people (None when fewer are enrolled);
    ``score`` is the nearest's score (the quantity compared with ``threshold.tau``); ``margin`` is how
    much lower it is than the second-nearest's score (inf with one person enrolled).
    """

    identity: Identity | None
    nearest: Candidate | None
    second: Candidate | None
    threshold: Threshold

    @property
    def score(self) -> float:
        return self.nearest.score if self.nearest is not None else float("inf")

    @property
    def margin(self) -> float:
        if self.nearest is None or self.second is None:
            return float("inf")
        return self.second.score - self.nearest.score


def calibration_for(model_id: str) -> OpenSetCalibration | None:
    """The shipped calibration of the face encoder ``model_id`` (None for models without one, e.g. trained)."""
    for spec in NETWORKS.values():
        if isinstance(spec, FaceEncoderSpec) and spec.model_id == model_id and spec.openset_calibration:
            return load_openset_calibration(spec)
    return None


def choose_threshold(
    k: int,
    *,
    far: float = DEFAULT_FAR,
    tau: float | None = None,
    calibration: OpenSetCalibration | None,
    fallback_tau: float,
) -> Threshold:
    """The tau of a search of ``k`` people: given (plain distance), calibrated for ``far``, or the encoder's
    verification tau when it has no calibration."""
    if tau is not None:
        if not np.isfinite(tau) or tau < 0:
            raise InvalidInputError(f"tau must be a finite number >= 0, got {tau}")
        return Threshold(float(tau), f"tau {tau:.2f}: fixed (squared L2 to the nearest photo)", calibrated=False)
    if calibration is None:
        return Threshold(
            fallback_tau,
            f"tau {fallback_tau:.2f}: the model's verification tau (not calibrated for galleries)",
            calibrated=False,
        )
    chosen = openset_tau(calibration.table, far=far, k=max(1, k))
    return Threshold(chosen.tau, chosen.reason, calibrated=True)


@dataclass(frozen=True)
class _Person:
    """What the decision needs of one enrolled person: their photos' encodings, template and factor g(m)."""

    photos: NDArray[np.float32]
    template: NDArray[np.float64]
    factor: float


def _person(encodings: NDArray[np.float32], calibration: OpenSetCalibration | None) -> _Person:
    if calibration is None:
        return _Person(encodings, np.zeros(0), 1.0)
    g = template_factor(len(encodings), calibration.template_factors)
    return _Person(encodings, mean_template(encodings), g)


def _ranked(
    probe: NDArray[np.float32],
    people: Sequence[Identity],
    known: Sequence[_Person],
    calibrated: bool,
    cohort_d: NDArray[np.float64] | None,
    cohort_n: int,
) -> list[Candidate]:
    """Candidates by increasing score: the plain nearest-photo distance, or the calibrated score."""
    if not people:
        return []
    if not calibrated or cohort_d is None:  # the lecture's rule: nearest photo, plain d
        plain = [float(pairwise_squared_l2(probe[None], person.photos).min()) for person in known]
        return sorted((Candidate(p, x, x) for p, x in zip(people, plain, strict=True)), key=lambda c: c.score)
    d = pairwise_squared_l2(probe[None].astype(np.float64), np.stack([person.template for person in known]))
    factors = [person.factor for person in known]
    s = cohort_normalised(d, cohort_d[None], n=cohort_n, factors=factors)[0]
    order = sorted(range(len(people)), key=lambda i: float(s[i]))
    return [Candidate(people[i], float(d[0, i]), float(s[i])) for i in order]


def decide(
    gallery: Gallery,
    embeddings: NDArray[np.float32],
    *,
    far: float = DEFAULT_FAR,
    tau: float | None = None,
    fallback_tau: float,
    calibration: OpenSetCalibration | None = None,
) -> list[Decision]:
    """The recognition decision for each probe encoding of ``embeddings`` ``(N, D)``.

    Candidates are the ``CANDIDATES`` people nearest by photo (the gallery's index, exact or ANN), then
    re-scored with their templates; tau comes from :func:`choose_threshold` for ``K = len(gallery)``.
    """
    threshold = choose_threshold(len(gallery), far=far, tau=tau, calibration=calibration, fallback_tau=fallback_tau)
    calibrated = threshold.calibrated and calibration is not None
    cohort_d = None
    if calibrated and calibration is not None:  # every probe against the cohort in one product
        cohort_d = pairwise_squared_l2(np.asarray(embeddings, np.float64), calibration.cohort.astype(np.float64))
    known: dict[int, _Person] = {}
    out: list[Decision] = []
    for i, (probe, matches) in enumerate(zip(embeddings, gallery.search(embeddings, k=CANDIDATES), strict=True)):
        people = [m.identity for m in matches]
        missing = [person for person in people if person.id not in known]
        for pid, encodings in gallery.encodings_by_id(missing).items():
            known[pid] = _person(encodings, calibration if calibrated else None)
        ranked = _ranked(
            probe,
            people,
            [known[p.id] for p in people],
            calibrated,
            None if cohort_d is None else cohort_d[i],
            calibration.cohort_n if calibration is not None else 1,
        )
        nearest = ranked[0] if ranked else None
        accepted = nearest is not None and nearest.score <= threshold.tau
        out.append(
            Decision(
                nearest.identity if accepted and nearest else None,
                nearest,
                ranked[1] if len(ranked) > 1 else None,
                threshold,
            )
        )
    return out
