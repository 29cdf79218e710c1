"""Calibrate the open-set identification table of the default face pipeline (dlib's ResNet).

Writes two files next to the model spec, from LFW View 1 TRAINING people (peopleDevTrain.txt) only:

* ``src/convapps/models/data/dlib_resnet_cohort.npy``: the background cohort, float16 ``(M, 128)``:
  the encoding of image 1 of every 2nd one-image person of peopleDevTrain (sorted by name; M = 1,427);
* ``src/convapps/models/data/dlib_resnet_openset.json``: the impostor distribution F of the default
  open-set score s(q, k) = d(q, t_k) / c(q) (d = squared L2 to person k's template, c(q) = mean of the
  probe's 3 smallest squared distances to the cohort) as rows (p, tau) with F(tau) = p, 50 rows
  log-spaced from p = 3e-7 to 0.5, and the template factors g(m) (m = 1..6 photos) that put a mean
  template's score on the one-photo scale (s = g(m) d / c).

Impostor pairs: every ordered pair (probe image q, enrolled image x) of two DIFFERENT peopleDevTrain
people outside the cohort, at most 10 images per person (images 1..10), x enrolled alone (a one-photo
template). tau(p) is the empirical quantile: the smallest score s_(i) with i/N >= p. With ~35 M pairs the
first row (3e-7) rests on ~10 pairs; below it ``ImpostorTable.tau_at`` extrapolates strictly.

Encodings are the cached ones of ``benchmarks/bench_gallery_openset.py --encode-only`` (default
FaceConfig, whole-image fallback when no face is found, mirror-averaged); the run is deterministic and
takes ~1 min from the cache. ``--check`` recomputes and compares with the shipped files instead.

    .venv/bin/python benchmarks/bench_gallery_openset.py --encode-only
    .venv/bin/python scripts/calibrate_openset.py [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from convapps.core.openset import cohort_normalised, mean_template
from convapps.face.lfw import FaceImage, read_people

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "data" / "faces" / "lfw"
CACHE = REPO / "benchmarks" / "out" / "gallery_openset" / "embeddings.npz"
DATA = REPO / "src" / "convapps" / "models" / "data"
TABLE_FILE = DATA / "dlib_resnet_openset.json"
COHORT_FILE = DATA / "dlib_resnet_cohort.npy"

COHORT_N = 3
IMAGES_PER_PERSON = 10
MAX_PHOTOS = 6
FACTOR_P = 1e-4
ROWS = 50
P_MIN, P_MAX = 3e-7, 0.5
MODEL_ID = "dlib_face_recognition_resnet_model_v1"

Lookup = Callable[[list[str]], np.ndarray]
"""Image keys (``lfw-deepfunneled/Name/Name_0001.jpg``) -> their encodings ``(N, 128)`` float32."""


def key(person: str, number: int) -> str:
    """The cache key of an LFW image: ``lfw-deepfunneled/<name>/<name>_<number:04d>.jpg``."""
    return FaceImage(person, number).path(Path()).as_posix()


def cohort_keys(train: dict[str, int]) -> list[str]:
    """Image 1 of every 2nd one-image peopleDevTrain person, sorted by name."""
    return [key(p, 1) for p in sorted(p for p, n in train.items() if n == 1)[::2]]


def calibration_images(train: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """Images 1..10 of every peopleDevTrain person outside the cohort, and each image's person index."""
    cohort = set(cohort_keys(train))
    people = sorted(p for p in train if key(p, 1) not in cohort)
    keys = [key(p, i) for p in people for i in range(1, min(train[p], IMAGES_PER_PERSON) + 1)]
    owner = np.array([j for j, p in enumerate(people) for _ in range(min(train[p], IMAGES_PER_PERSON))])
    return keys, owner


def impostor_scores(emb: np.ndarray, owner: np.ndarray, cohort: np.ndarray, *, n: int = COHORT_N) -> np.ndarray:
    """Sorted float64 scores d(q, x) / c(q) of all ordered pairs of images of different people."""
    emb = emb.astype(np.float64)
    cohort = cohort.astype(np.float64)
    sq = (emb * emb).sum(1)
    csq = (cohort * cohort).sum(1)
    out = []
    for s in range(0, len(emb), 1024):
        q = emb[s : s + 1024]
        d = np.maximum(sq[s : s + 1024, None] + sq[None, :] - 2.0 * q @ emb.T, 0.0)
        c = np.maximum(sq[s : s + 1024, None] + csq[None, :] - 2.0 * q @ cohort.T, 0.0)
        score = cohort_normalised(d, c, n=n)
        out.append(score[owner[s : s + 1024, None] != owner[None, :]])
    return np.sort(np.concatenate(out))


def _sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.astype(np.float64), b.astype(np.float64)
    return np.asarray(np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0))


def template_factors(
    lookup: Lookup, train: dict[str, int], keys: list[str], owner: np.ndarray, cohort: np.ndarray
) -> list[float]:
    """g(m) for m = 1..MAX_PHOTOS: for the people outside the cohort with >= m images, the ratio of the
    FACTOR_P-quantile of impostor scores d/c against their image 1 to that against the mean template of
    their images 1..m (probes: the calibration images of everybody else)."""
    emb = lookup(keys)
    scale = cohort_normalised(np.ones((len(emb), 1)), _sqdist(emb, cohort), n=COHORT_N)[:, 0]  # = 1 / c(q)
    cohort_set = set(cohort_keys(train))
    people = sorted(p for p in train if key(p, 1) not in cohort_set)
    factors = [1.0]
    for m in range(2, MAX_PHOTOS + 1):
        chosen = [j for j, p in enumerate(people) if train[p] >= m]
        other = owner[:, None] != np.array(chosen)[None, :]
        single = lookup([key(people[j], 1) for j in chosen])
        tmpl = np.stack([mean_template(lookup([key(people[j], i) for i in range(1, m + 1)])) for j in chosen])
        q1, qm = (float(np.quantile((_sqdist(emb, t) * scale[:, None])[other], FACTOR_P)) for t in (single, tmpl))
        factors.append(round(q1 / qm, 4))
    return factors


def table_rows(scores: np.ndarray) -> list[list[float]]:
    """(p, tau) rows: tau = s_(ceil(p N)) (1-based), the smallest score with empirical F >= p."""
    rows = []
    for p in np.geomspace(P_MIN, P_MAX, ROWS):
        i = max(int(np.ceil(float(p) * len(scores))) - 1, 0)
        rows.append([float(f"{p:.4g}"), round(float(scores[i]), 6)])
    return rows


def calibrate(lookup: Lookup, lfw: Path = LFW) -> tuple[dict[str, object], np.ndarray]:
    """The table (JSON-ready dict) and the float16 cohort from encodings given by ``lookup``."""
    train = read_people(lfw / "peopleDevTrain.txt")
    ckeys = cohort_keys(train)
    cohort = lookup(ckeys).astype(np.float16)
    keys, owner = calibration_images(train)
    emb = lookup(keys).astype(np.float32)
    scores = impostor_scores(emb, owner, cohort)
    factors = template_factors(lookup, train, keys, owner, cohort)
    digest = hashlib.sha256(emb.tobytes() + cohort.tobytes()).hexdigest()
    table = {
        "model_id": MODEL_ID,
        "score": (
            f"g(m) x squared L2 to the person's mean template of m photos / mean of the probe's {COHORT_N} "
            "smallest squared L2 distances to the cohort"
        ),
        "cohort_file": COHORT_FILE.name,
        "cohort_n": COHORT_N,
        "cohort_size": len(ckeys),
        "made_by": "scripts/calibrate_openset.py",
        "data": (
            f"LFW deep-funneled, View 1 training people (peopleDevTrain.txt) only: ordered impostor pairs of "
            f"{len(np.unique(owner))} people outside the cohort, images 1..{IMAGES_PER_PERSON} each"
        ),
        "pipeline": "default FaceConfig (HOG, auto upsampling, mirror-averaged), whole image when no face is found",
        "images": len(keys),
        "pairs": len(scores),
        "encodings_sha256": digest,
        "template_factors": factors,
        "template_factors_note": (
            f"g(m) for m = 1..{MAX_PHOTOS} photos: score quantile at p = {FACTOR_P:g} against "
            "one photo / that against an m-photo mean template (same people); more photos use "
            "the last"
        ),
        "rows": table_rows(scores),
    }
    return table, cohort


def to_json(table: dict[str, object]) -> str:
    """The shipped JSON text: one line per field and per (p, tau) row."""
    head = json.dumps({k: v for k, v in table.items() if k != "rows"}, indent=1)
    rows = ",\n".join(f"  {json.dumps(r)}" for r in table["rows"])  # type: ignore[attr-defined]
    return f'{head[:-2]},\n "rows": [\n{rows}\n ]\n}}\n'


def cache_lookup(file: Path = CACHE) -> Lookup:
    if not file.exists():
        sys.exit(f"no encoding cache at {file}: run benchmarks/bench_gallery_openset.py --encode-only first")
    with np.load(file, allow_pickle=False) as data:
        index = {k: i for i, k in enumerate(data["keys"].tolist())}
        emb = data["embeddings"]

    def lookup(keys: list[str]) -> np.ndarray:
        missing = [k for k in keys if k not in index]
        if missing:
            sys.exit(f"{len(missing)} images missing from {file} (e.g. {missing[0]}): fill the cache first")
        return emb[[index[k] for k in keys]]

    return lookup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the shipped files, write nothing")
    args = parser.parse_args()
    table, cohort = calibrate(cache_lookup())
    text = to_json(table)
    if args.check:
        same = TABLE_FILE.read_text() == text and np.array_equal(np.load(COHORT_FILE), cohort)
        print("shipped table and cohort reproduced" if same else "shipped files DIFFER from a fresh calibration")
        sys.exit(0 if same else 1)
    DATA.mkdir(parents=True, exist_ok=True)
    TABLE_FILE.write_text(text)
    np.save(COHORT_FILE, cohort)
    rows = table["rows"]
    assert isinstance(rows, list)
    print(
        f"{table['pairs']:,} impostor pairs from {table['images']} images; wrote {TABLE_FILE.relative_to(REPO)} "
        f"({len(rows)} rows, tau {rows[0][1]:.4f}..{rows[-1][1]:.4f}) and {COHORT_FILE.relative_to(REPO)}"
    )


if __name__ == "__main__":
    main()
