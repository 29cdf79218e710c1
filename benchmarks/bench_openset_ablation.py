"""Ablation for open-set identification: scoring rule, several photos per person, quality weighting.

Every choice is SELECTED on LFW View 1 training people (peopleDevTrain.txt) and only REPORTED on View 1
test people (peopleDevTest.txt, disjoint) and on the full LFW protocol (all 5,749 people; it contains
the training people, so it is not held out). Protocols (see ``bench_openset_common.protocol``): every
person with >= 2 images is enrolled, one-image people are strangers (never enrolled); "1 photo" enrolls
image 1 and counts every other image as a genuine probe; "3 photos" enrolls images 1..min(3, n-1) and
counts the probes of people with >= 4 images. The background cohort (every 2nd one-image person of
peopleDevTrain) is never a stranger or a probe.

The figure is DIR at FAR = 1% per search with the gallery of the whole split (K = 1,184 train, 496 test,
1,680 full): tau is set where 1% of that split's strangers are accepted, i.e. each rule is compared at
the same operating point of its own DET curve (a property of the score; the deployed tau comes from the
calibration table, see bench_openset_k.py). Selection order: normalisation (mean train DIR of the
1-photo and the 3-photo template settings), then templates, then quality weights; a variant must beat
the simpler one by > 0.005 on train to be chosen.

    .venv/bin/python benchmarks/bench_gallery_openset.py --encode-only   # fills the encoding cache
    .venv/bin/python benchmarks/bench_openset_ablation.py                # ~1 min; writes docs/face/openset_ablation.md
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_openset_common import (
    LFW,
    Encodings,
    Norm,
    Protocol,
    Quality,
    Template,
    cohort_encodings,
    cohort_people,
    decide,
    load_encodings,
    person_scores,
    photo_factors,
    protocol,
    rates,
    sqdist,
    tau_for_far,
)
from convapps.face.lfw import read_people

REPO = Path(__file__).resolve().parents[1]
TABLE_FILE = REPO / "docs" / "face" / "openset_ablation.md"
SPEC = REPO / "src" / "convapps" / "models" / "data" / "dlib_resnet_openset.json"
SPLITS = {"train": "peopleDevTrain.txt", "test": "peopleDevTest.txt", "full": "lfw-names.txt"}
COHORT_N = (1, 2, 3, 5, 10, 20)
MARGIN = 0.005


@dataclass(frozen=True)
class Variant:
    template: Template
    norm: Norm
    n: int = 3
    quality: Quality = "uniform"
    factors: bool = False

    @property
    def norm_label(self) -> str:
        names = {"none": "plain d", "second": "d1 / d2 (second-nearest person)"}
        return names.get(self.norm, f"d / cohort (n={self.n})")

    @property
    def label(self) -> str:
        return f"{self.template}, {self.norm_label}, {self.quality} weights"


class Study:
    """Protocols, cohort distances and person scores per split, computed once."""

    def __init__(self, enc: Encodings) -> None:
        self.enc = enc
        self.cohort = cohort_encodings(enc)
        self.factors = json.loads(SPEC.read_text())["template_factors"]
        exclude = set(cohort_people())
        self.prot: dict[tuple[str, int], Protocol] = {}
        self.cohort_d: dict[tuple[str, int], np.ndarray] = {}
        self.scores: dict[tuple[str, int, Template, Quality], np.ndarray] = {}
        for split, file in SPLITS.items():
            people = read_people(LFW / file)
            for photos in (1, 3):
                prot = protocol(people, n_enroll=photos, count_min_images=2 if photos == 1 else 4, exclude=exclude)
                self.prot[split, photos] = prot
                self.cohort_d[split, photos] = sqdist(enc(prot.probes), self.cohort)

    def dir(self, split: str, photos: int, v: Variant) -> dict[str, float]:
        prot = self.prot[split, photos]
        k = (split, photos, v.template, v.quality)
        if k not in self.scores:
            self.scores[k] = person_scores(self.enc, prot, template=v.template, quality=v.quality)
        g = photo_factors(prot, self.factors) if v.factors else None
        best, s = decide(self.scores[k], v.norm, self.cohort_d[split, photos], v.n, g)
        tau = tau_for_far(s[prot.strangers], 0.01)
        return rates(prot.truth, prot.counted, best, s, tau)


def pick(candidates: list[Variant], train_dir: dict[Variant, float]) -> Variant:
    """The first (simplest) candidate unless a later one beats the best so far by > MARGIN on train."""
    chosen = candidates[0]
    for v in candidates[1:]:
        if train_dir[v] > train_dir[chosen] + MARGIN:
            chosen = v
    return chosen


def table(study: Study, rows: list[tuple[str, int, Variant]], title: str) -> tuple[list[str], dict]:
    lines = [
        f"**{title}**",
        "",
        "| photos | rule | train DIR (selects) | test DIR | full DIR | full rank-1 |",
        "|---|---|---|---|---|---|",
    ]
    results = {}
    for name, photos, v in rows:
        r = {split: study.dir(split, photos, v) for split in SPLITS}
        results[photos, v] = r
        lines.append(
            f"| {photos} | {name} | {r['train']['dir']:.3f} | {r['test']['dir']:.3f} | "
            f"{r['full']['dir']:.3f} | {r['full']['rank1']:.3f} |"
        )
        print(lines[-1], flush=True)
    return [*lines, ""], results


def main() -> None:
    study = Study(load_encodings())
    out: list[str] = ["<!-- generated by benchmarks/bench_openset_ablation.py; do not edit -->", ""]

    norms = [Variant("nearest", "none"), Variant("nearest", "second")] + [
        Variant("nearest", "cohort", n) for n in COHORT_N
    ]
    rows = [(v.norm_label, 1, v) for v in norms]
    rows += [(r[0], 3, Variant("template", r[2].norm, r[2].n)) for r in rows]
    lines, res = table(study, rows, "Score normalisation (1 photo: nearest photo; 3 photos: mean template)")
    out += lines
    mean_train = {
        v: (res[1, v]["train"]["dir"] + res[3, Variant("template", v.norm, v.n)]["train"]["dir"]) / 2 for v in norms
    }
    norm = pick(norms, mean_train)

    templates = [Variant(t, norm.norm, norm.n) for t in ("nearest", "template", "both")]
    rows = [(f"{v.template}, {v.norm_label}", 3, v) for v in templates]
    rows += [(f"{t}, plain d", 3, Variant(t, "none")) for t in ("nearest", "template", "both")]
    lines, res = table(study, rows, "Several photos per person (people with >= 4 images, 3 enrolled)")
    out += lines
    template = pick(templates, {v: res[3, v]["train"]["dir"] for v in templates})

    qualities = [Variant(template.template, norm.norm, norm.n, q) for q in ("uniform", "drop_fallback", "hog_score")]
    rows = [(v.quality, 3, v) for v in qualities]
    lines, res = table(study, rows, f"Quality weighting of enrolled photos ({template.template}, {norm.norm_label})")
    out += lines
    chosen = pick(qualities, {v: res[3, v]["train"]["dir"] for v in qualities})
    final = Variant(chosen.template, chosen.norm, chosen.n, chosen.quality, factors=True)
    lines, _ = table(
        study,
        [("chosen + template factors g(m) (calibrated after the choice)", 3, final)],
        "The default as shipped (3 photos; galleries mix 1-, 2- and 3-photo people)",
    )
    out += lines
    out += [f"Chosen on train: **{chosen.label}**, scores scaled by the calibrated template factors g(m).", ""]
    print(f"\nchosen on peopleDevTrain: {chosen.label}")
    TABLE_FILE.parent.mkdir(parents=True, exist_ok=True)
    TABLE_FILE.write_text("\n".join(out))
    print(f"wrote {TABLE_FILE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
