"""Open-set identification against the gallery size K, through the product's own decision code.

LFW full open-set protocol (deep-funneled): every person with >= 2 images is enrollable (1,680), the
one-image people are strangers (never enrolled; the 1,427 of them in the shipped background cohort are
left out, 2,642 remain), the other images of enrolled people are genuine probes. Galleries of K = 10,
100, 1,000 and 1,680 people are random subsets (fixed seeds; 20, 10, 3 and 1 draws); a draw probes
with its people's genuine images and with every stranger. Two enrollments: 1 photo (image 1), and
3 photos (images 1..min(3, n-1); DIR counts people with >= 4 images).

* ours: for every draw the cached encodings are enrolled into a real SQLite gallery
  (``convapps.gallery.open_gallery``, ``enroll_many``) and every probe goes through
  ``convapps.face.openset.decide`` with the shipped calibration (``calibration_for``) at the default
  FAR 1% per search: the library's candidates, templates, cohort normalisation, template factors and
  tau(K). The DET curves are drawn from the library's scores (the nearest person's score and whether it
  is the right person), so the operating point lies on them.
* check: the same draws scored by this benchmark's vectorised code (``bench_openset_common``: every
  enrolled person's template scored, no candidate search) at the library's tau; the table shows its FAR
  and DIR and the number of probes whose answer (name or "not recognized") differs from the library's.
* face_recognition's usual recipe on the SAME encodings (the library itself is not installed):
  ``face_distance`` (L2) to every enrolled photo, the nearest one if ``compare_faces`` accepts it at
  tolerance 0.6 (also convapps' previous default, squared L2 <= 0.36).

FAR = strangers given a name / strangers; DIR = genuine probes whose answer is the right person /
genuine probes (pooled over draws). ``--devtest`` runs the same on View 1 test people only (K = 10, 100,
496; strangers = their one-image people), the people the table never saw. Writes the DET plot (DIR
against per-search FAR, one curve per K) to docs/face/openset_det.png (full protocol only). The load
average is printed at start and end: on a shared machine the timings are not the code's alone.

    .venv/bin/python benchmarks/bench_gallery_openset.py --encode-only
    .venv/bin/python benchmarks/bench_openset_k.py [--devtest]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_openset_common import (
    LFW,
    Encodings,
    Protocol,
    cohort_people,
    decide,
    load_encodings,
    person_scores,
    photo_factors,
    protocol,
    sqdist,
    subset,
)
from convapps.face import openset
from convapps.face.lfw import read_people
from convapps.gallery import open_gallery
from convapps.models.openset_calibration import OpenSetCalibration
from convapps.models.registry import DLIB_RESNET

REPO = Path(__file__).resolve().parents[1]
DET_FILE = REPO / "docs" / "face" / "openset_det.png"
FAR_TARGET = openset.DEFAULT_FAR
ANCHOR_TOLERANCE = 0.6  # face_recognition.compare_faces' default (L2, not squared)
DRAWS = {10: 20, 100: 10, 1000: 3}
"""Draws per K below the whole set (the library decides every probe of every draw: ~1 ms a probe)."""


def draws(n_people: int, k: int) -> list[np.ndarray]:
    if k >= n_people:
        return [np.arange(n_people)]
    return [np.sort(np.random.default_rng([k, i]).choice(n_people, k, replace=False)) for i in range(DRAWS[k])]


@dataclass
class Pool:
    """Per-probe outcomes pooled over the draws of one K: genuine probes (nearest person right?, score),
    strangers (score), and whether the rule's own decision named each probe."""

    correct: list[np.ndarray] = field(default_factory=list)
    genuine: list[np.ndarray] = field(default_factory=list)
    strange: list[np.ndarray] = field(default_factory=list)
    accepted_genuine: list[np.ndarray] = field(default_factory=list)
    accepted_strange: list[np.ndarray] = field(default_factory=list)

    def add(
        self, correct: np.ndarray, gen: np.ndarray, strange: np.ndarray, acc_g: np.ndarray, acc_s: np.ndarray
    ) -> None:
        self.correct.append(correct)
        self.genuine.append(gen)
        self.strange.append(strange)
        self.accepted_genuine.append(acc_g)
        self.accepted_strange.append(acc_s)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.concatenate(self.correct), np.concatenate(self.genuine), np.concatenate(self.strange)

    def rates(self) -> dict[str, float]:
        correct = np.concatenate(self.correct)
        return {
            "far": float(np.concatenate(self.accepted_strange).mean()),
            "dir": float((correct & np.concatenate(self.accepted_genuine)).mean()),
        }


@dataclass
class Scored:
    """One enrollment setting scored by the vectorised code: (P, K_all) template and photo scores."""

    prot: Protocol
    ours: np.ndarray  # squared L2 to each template; ``decide`` applies g(m) and 1 / c(probe)
    cohort_d: np.ndarray
    factors: np.ndarray
    anchor_l2: np.ndarray  # L2 to the nearest photo (face_recognition's face_distance)


def library_draw(
    enc: Encodings, prot: Protocol, cols: np.ndarray, use: np.ndarray, calibration: OpenSetCalibration
) -> tuple[list[openset.Decision], float]:
    """The product's decisions for the probes ``use`` (mask over ``prot.probes``) against a fresh SQLite
    gallery of the people ``cols``; and the seconds they took."""
    with tempfile.TemporaryDirectory() as tmp, open_gallery(Path(tmp) / "gallery.db", space=DLIB_RESNET.space) as g:
        g.enroll_many([(prot.people[j], enc(prot.photos[j]).astype(np.float32), None) for j in cols])
        probes = enc([p for p, u in zip(prot.probes, use, strict=True) if u]).astype(np.float32)
        start = time.perf_counter()
        decisions = openset.decide(
            g, probes, far=FAR_TARGET, fallback_tau=DLIB_RESNET.default_tau, calibration=calibration
        )
        return decisions, time.perf_counter() - start


def sweep(enc: Encodings, sc: Scored, calibration: OpenSetCalibration, ks: list[int]) -> dict[int, dict[str, object]]:
    """Per K: the library's decisions and scores, the vectorised check, and the anchor, pooled over draws."""
    out: dict[int, dict[str, object]] = {}
    prot = sc.prot
    for k in ks:
        pools = {"ours": Pool(), "check": Pool(), "anchor": Pool()}
        differ, seconds, n_probes, reason, tau = 0, 0.0, 0, "", 0.0
        for cols in draws(len(prot.people), k):
            keep, truth, counted = subset(prot, cols)
            use = np.zeros(len(prot.probes), bool)
            use[np.flatnonzero(keep)[counted | (truth < 0)]] = True
            truth, counted = truth[counted | (truth < 0)], counted[counted | (truth < 0)]
            gen, strange = truth >= 0, truth < 0
            decisions, took = library_draw(enc, prot, cols, use, calibration)
            seconds, n_probes = seconds + took, n_probes + len(decisions)
            tau, reason = decisions[0].threshold.tau, decisions[0].threshold.reason
            name_of = {prot.people[j]: i for i, j in enumerate(cols)}
            nearest = np.array([name_of[d.nearest.identity.name] if d.nearest else -1 for d in decisions])
            score = np.array([d.score for d in decisions])
            named = np.array([d.identity is not None for d in decisions])
            right = nearest == truth
            pools["ours"].add(right[gen], score[gen], score[strange], named[gen], named[strange])
            # the vectorised check at the library's tau
            best, s = decide(sc.ours[use][:, cols], "cohort", sc.cohort_d[use], calibration.cohort_n, sc.factors[cols])
            pools["check"].add((best == truth)[gen], s[gen], s[strange], (s <= tau)[gen], (s <= tau)[strange])
            differ += int((np.where(named, nearest, -1) != np.where(s <= tau, best, -1)).sum())
            # face_recognition: nearest photo, compare_faces(tolerance=0.6)
            best_a, l2 = decide(sc.anchor_l2[use][:, cols], "none")
            ok = l2 <= ANCHOR_TOLERANCE
            pools["anchor"].add((best_a == truth)[gen], l2[gen], l2[strange], ok[gen], ok[strange])
        row: dict[str, object] = {"tau": tau, "reason": reason, "differ": differ, "probes": n_probes}
        row["ms_per_probe"] = 1000 * seconds / n_probes
        for name, pool in pools.items():
            correct, gen_s, strange_s = pool.arrays()
            row[name] = {**pool.rates(), "dir_at_far1": dir_at(correct, gen_s, strange_s, FAR_TARGET)}
            row[name]["curve"] = (correct, gen_s, strange_s)  # type: ignore[index]
        out[k] = row
    return out


def dir_at(correct: np.ndarray, gen: np.ndarray, strange: np.ndarray, far: float) -> float:
    """DIR at the tau that accepts exactly a fraction ``far`` of the pooled strangers."""
    s = np.sort(strange)
    m = int(np.floor(far * len(s)))
    tau = s[m - 1] if m > 0 else -np.inf
    return float((correct & (gen <= tau)).mean())


def det_plot(results: dict[str, dict[int, dict[str, object]]], file: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.5), sharey=True)
    for ax, (title, res) in zip(np.atleast_1d(axes), results.items(), strict=True):
        for i, (k, row) in enumerate(res.items()):
            color = f"C{i}"
            for name, style in (("ours", "-"), ("anchor", ":")):
                r = row[name]
                assert isinstance(r, dict)
                correct, gen, strange = r["curve"]
                taus = np.quantile(strange, np.geomspace(1e-4, 1, 200))
                far = np.array([(strange <= t).mean() for t in taus])
                dirs = np.array([(correct & (gen <= t)).mean() for t in taus])
                label = f"K={k:,}" if name == "ours" else None
                ax.plot(far, dirs, style, color=color, label=label)
                ax.plot(r["far"], r["dir"], "o" if name == "ours" else "x", color=color)
        ax.set_xscale("log")
        ax.set_xlim(1e-3, 1)
        ax.axvline(FAR_TARGET, color="grey", lw=0.5)
        ax.set_xlabel("false-accept rate per search (strangers given a name)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("detection-and-identification rate (DIR)")
    np.atleast_1d(axes)[0].legend(
        title="solid: convapps default (library decide), o = tau(K, FAR 1%)\n"
        "dotted: face_recognition (nearest photo), x = tolerance 0.6",
        fontsize=8,
        title_fontsize=8,
        loc="lower right",
    )
    fig.tight_layout()
    file.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(file, dpi=110)


def score(enc: Encodings, prot: Protocol, calibration: OpenSetCalibration) -> Scored:
    """The vectorised scores of every probe against every enrollable person (for the check and the anchor)."""
    cohort = calibration.cohort.astype(np.float64)
    return Scored(
        prot,
        person_scores(enc, prot, template="template", quality="uniform"),
        sqdist(enc(prot.probes), cohort),
        photo_factors(prot, list(calibration.template_factors)),
        np.sqrt(person_scores(enc, prot, template="nearest", quality="uniform")),
    )


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" ({os.cpu_count()} CPUs)"


def report(title: str, prot: Protocol, res: dict[int, dict[str, object]]) -> None:
    print(f"\n{title}: {int(prot.strangers.sum())} strangers, {int(prot.counted.sum())} counted genuine probes")
    print(
        "| K | draws | tau | ours FAR | ours DIR | ours DIR at FAR 1% | fr FAR | fr DIR | fr DIR at FAR 1% "
        "| check FAR | check DIR | answers differing | ms/probe |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k, row in res.items():
        o, a, c = row["ours"], row["anchor"], row["check"]
        assert isinstance(o, dict) and isinstance(a, dict) and isinstance(c, dict)
        print(
            f"| {k:,} | {DRAWS.get(k, 1)} | {row['tau']:.3f} | "
            f"{o['far']:.4f} | {o['dir']:.4f} | {o['dir_at_far1']:.4f} | {a['far']:.4f} | {a['dir']:.4f} | "
            f"{a['dir_at_far1']:.4f} | {c['far']:.4f} | {c['dir']:.4f} | {row['differ']} of {row['probes']:,} | "
            f"{row['ms_per_probe']:.2f} |"
        )
    print(f'answers say e.g. "{res[max(res)]["reason"]}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devtest", action="store_true", help="View 1 test people only (K = 10, 100, 496)")
    args = parser.parse_args()
    print(f"start: {load()}")
    start = time.perf_counter()
    calibration = openset.calibration_for(DLIB_RESNET.model_id)
    assert calibration is not None
    enc = load_encodings()
    people = read_people(LFW / ("peopleDevTest.txt" if args.devtest else "lfw-names.txt"))
    ks = [10, 100, 496] if args.devtest else [10, 100, 1000, 1680]
    results: dict[str, dict[int, dict[str, object]]] = {}
    for photos in (1, 3):
        prot = protocol(people, n_enroll=photos, count_min_images=2 if photos == 1 else 4, exclude=set(cohort_people()))
        title = f"{photos} photo{'s' if photos > 1 else ''} enrolled"
        results[title] = res = sweep(enc, score(enc, prot, calibration), calibration, ks)
        report(f"{title} ({'View 1 test people' if args.devtest else 'full LFW'})", prot, res)
    if not args.devtest:
        det_plot(results, DET_FILE)
        print(f"wrote {DET_FILE.relative_to(REPO)}")
    print(f"end: {load()}; {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
