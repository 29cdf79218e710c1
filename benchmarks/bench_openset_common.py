"""The LFW open-set protocols and scoring rules shared by the open-set benchmarks and the calibration.

A protocol enrolls every person with >= 2 images of a people list (their first ``n_enroll`` images, at
most n - 1 so that each keeps a probe), probes with their other images (genuine) and with every image
of the one-image people (strangers, never enrolled). Encodings come from the cache written by
``bench_gallery_openset.py --encode-only`` (default pipeline, whole-image fallback).

Scores per (probe, person), smaller = more alike:
  * ``nearest``: min over the person's photos of d = ||f(probe) - f(x)||^2 (the lecture's rule);
  * ``template``: d to the person's mean template (mean of L2-normalised encodings, re-normalised);
  * ``both``: the smaller of the two.
Normalisations of the chosen person's score s1: ``none``; ``second``: s1 / s2 (s2 = the second-nearest
person's score; depends on K); ``cohort``: s1 / c(probe), c = mean of the probe's ``n`` smallest
distances to a fixed background cohort (one-image people of peopleDevTrain kept out of every test),
optionally with the template factors g(m) (scores g(m_k) d, see ``convapps.core.openset``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from convapps.core.openset import cohort_normalised, template_factor
from convapps.face.lfw import FaceImage, read_people

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "data" / "faces" / "lfw"
CACHE = REPO / "benchmarks" / "out" / "gallery_openset" / "embeddings.npz"

Template = Literal["nearest", "template", "both"]
Norm = Literal["none", "second", "cohort"]
Quality = Literal["uniform", "drop_fallback", "hog_score"]


def key(person: str, number: int) -> str:
    """The cache key of an LFW image: ``lfw-deepfunneled/<name>/<name>_<number:04d>.jpg``."""
    return FaceImage(person, number).path(Path()).as_posix()


@dataclass
class Encodings:
    """The cached encodings and per-image detector metadata, addressed by image key."""

    index: dict[str, int]
    emb: np.ndarray  # (N, D) float64
    score: np.ndarray  # HOG score, 0 for the whole-image fallback
    detected: np.ndarray  # bool

    def __call__(self, keys: list[str]) -> np.ndarray:
        return self.emb[[self.index[k] for k in keys]]

    def missing(self, keys: list[str]) -> list[str]:
        return [k for k in keys if k not in self.index]


def load_encodings(file: Path = CACHE) -> Encodings:
    with np.load(file, allow_pickle=False) as data:
        keys = data["keys"].tolist()
        return Encodings(
            {k: i for i, k in enumerate(keys)},
            data["embeddings"].astype(np.float64),
            data["scores"].astype(np.float64),
            data["detected"].astype(bool),
        )


def cohort_people() -> list[str]:
    """The background cohort: every 2nd one-image person of peopleDevTrain (sorted by name)."""
    return sorted(p for p, n in read_people(LFW / "peopleDevTrain.txt").items() if n == 1)[::2]


@dataclass
class Protocol:
    """Who is enrolled with which photos, and the probes (person index, -1 for a stranger)."""

    people: list[str]
    photos: list[list[str]]
    probes: list[str]
    truth: np.ndarray  # (P,) int
    counted: np.ndarray  # (P,) bool: genuine probes that count for DIR

    @property
    def strangers(self) -> np.ndarray:
        return self.truth < 0


def protocol(
    people: dict[str, int], *, n_enroll: int = 1, count_min_images: int = 2, exclude: set[str] | None = None
) -> Protocol:
    """Enroll images 1..min(n_enroll, n-1) of every person with >= 2 images, probe with the rest; every
    one-image person not in ``exclude`` is a stranger. DIR counts the genuine probes of people with
    >= ``count_min_images`` images."""
    multi = sorted(p for p, n in people.items() if n >= 2)
    single = sorted(p for p, n in people.items() if n == 1 and p not in (exclude or set()))
    photos = [[key(p, i) for i in range(1, min(n_enroll, people[p] - 1) + 1)] for p in multi]
    probes: list[str] = []
    truth: list[int] = []
    counted: list[bool] = []
    for j, p in enumerate(multi):
        first = len(photos[j]) + 1
        for i in range(first, people[p] + 1):
            probes.append(key(p, i))
            truth.append(j)
            counted.append(people[p] >= count_min_images)
    probes += [key(p, 1) for p in single]
    truth += [-1] * len(single)
    counted += [False] * len(single)
    return Protocol(multi, photos, probes, np.array(truth), np.array(counted))


def sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) squared L2 distances, float32 (chunked, clipped at 0)."""
    out = np.empty((len(a), len(b)), np.float32)
    bb = (b * b).sum(1)
    for s in range(0, len(a), 2048):
        x = a[s : s + 2048]
        out[s : s + 2048] = np.maximum((x * x).sum(1)[:, None] + bb[None, :] - 2.0 * x @ b.T, 0.0)
    return out


def weights(enc: Encodings, keys: list[str], quality: Quality) -> np.ndarray:
    """Per-photo weights of a template: ``uniform``; ``drop_fallback`` (photos without a detected face
    get weight 0 unless all of them lack one); ``hog_score`` (the detector score, floor 0.05)."""
    idx = [enc.index[k] for k in keys]
    if quality == "uniform":
        return np.ones(len(idx))
    if quality == "drop_fallback":
        w = enc.detected[idx].astype(np.float64)
        return w if w.sum() > 0 else np.ones(len(idx))
    return np.maximum(enc.score[idx], 0.05)


def templates(enc: Encodings, prot: Protocol, quality: Quality) -> np.ndarray:
    """(K, D) weighted mean templates: r * m/|m|, m = sum_j w_j f_j/|f_j| / sum w, r = weighted mean norm."""
    out = []
    for keys in prot.photos:
        x = enc(keys)
        w = weights(enc, keys, quality)
        norms = np.linalg.norm(x, axis=1)
        m = (w[:, None] * x / norms[:, None]).sum(0) / w.sum()
        out.append(m / np.linalg.norm(m) * (w * norms).sum() / w.sum())
    return np.stack(out)


def person_scores(enc: Encodings, prot: Protocol, *, template: Template, quality: Quality) -> np.ndarray:
    """(P, K) float32 score of every probe against every enrolled person (squared L2)."""
    q = enc(prot.probes)
    tmpl = sqdist(q, templates(enc, prot, quality)) if template != "nearest" else None
    if template == "template":
        assert tmpl is not None
        return tmpl
    flat = [k for keys in prot.photos for k in keys]
    owner = np.repeat(np.arange(len(prot.photos)), [len(k) for k in prot.photos])
    if quality == "drop_fallback":  # drop fallback photos of people who have a detected one
        keep = np.array([weights(enc, keys, quality)[i] > 0 for keys in prot.photos for i in range(len(keys))])
        flat, owner = [k for k, m in zip(flat, keep, strict=True) if m], owner[keep]
    d = sqdist(q, enc(flat))
    near = np.full((len(q), len(prot.photos)), np.inf, np.float32)
    np.minimum.at(near.T, owner, d.T)
    return near if tmpl is None else np.minimum(near, tmpl)


def photo_factors(prot: Protocol, factors: list[float]) -> np.ndarray:
    """g(m) of every enrolled person (m = the number of its enrolled photos)."""
    return np.array([template_factor(len(p), factors) for p in prot.photos])


def cohort_encodings(enc: Encodings) -> np.ndarray:
    """The cohort's encodings as shipped (float16: image 1 of every :func:`cohort_people` person)."""
    return enc([key(p, 1) for p in cohort_people()]).astype(np.float16).astype(np.float64)


def decide(
    scores: np.ndarray,
    norm: Norm,
    cohort_d: np.ndarray | None = None,
    n: int = 3,
    factors: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(nearest person, its normalised score) per probe from (P, K) person scores; ``cohort_d`` (P, M)
    are the probes' distances to the cohort (for ``cohort``), ``factors`` (K,) the template factors g(m)."""
    if factors is not None:
        scores = scores * factors[None, :].astype(np.float32)
    best = scores.argmin(1)
    s1 = scores[np.arange(len(scores)), best].astype(np.float64)
    if norm == "none":
        return best, s1
    if norm == "second":
        if scores.shape[1] < 2:
            return best, s1
        s2 = np.partition(scores, 1, axis=1)[:, 1].astype(np.float64)
        return best, s1 / np.maximum(s2, 1e-12)
    assert cohort_d is not None
    return best, cohort_normalised(s1[:, None], cohort_d, n=n)[:, 0]


def tau_for_far(stranger_scores: np.ndarray, far: float) -> float:
    """Largest tau accepting at most a fraction ``far`` of the strangers (s <= tau accepts)."""
    s = np.sort(stranger_scores)
    m = int(np.floor(far * len(s)))
    if m == 0:
        return float(s[0]) * (1 - 1e-9)
    return float(s[m - 1]) if s[m] > s[m - 1] else float(np.nextafter(s[m - 1], -np.inf))


def rates(truth: np.ndarray, counted: np.ndarray, best: np.ndarray, score: np.ndarray, tau: float) -> dict[str, float]:
    """DIR (counted genuine probes: nearest person right AND score <= tau), FAR (strangers: score <= tau),
    rank-1 accuracy."""
    correct = best == truth
    g, s = counted, truth < 0
    return {
        "dir": float((correct & (score <= tau))[g].mean()),
        "far": float((score[s] <= tau).mean()),
        "rank1": float(correct[g].mean()),
    }


def subset(prot: Protocol, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Restrict a protocol to the enrolled people ``cols`` (a gallery of K = len(cols)): the probes kept
    (genuine probes of those people and every stranger, as a mask), their truth remapped to 0..K-1 (-1 for
    strangers) and whether each kept probe counts for DIR."""
    remap = np.full(len(prot.people), -2)
    remap[cols] = np.arange(len(cols))
    t = np.where(prot.truth >= 0, remap[np.maximum(prot.truth, 0)], -1)
    keep = t != -2
    return keep, t[keep], prot.counted[keep]
