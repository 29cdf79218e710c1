"""Open-set identification on LFW (deep-funneled) with a one-photo-per-person gallery.

Protocol (the lecture's face recognition: output an ID, or "not recognized"):
  * enroll ONE image (the person's first) of each person with >= 2 images;
  * every one-image person is a distractor who is NOT enrolled;
  * probe with the other images of enrolled people and with every distractor image.
Figures: rank-1 accuracy of enrolled probes, false-accept rate (FAR) of distractor probes at the
default tau, and the detection-and-identification rate (DIR: nearest identity correct AND d <= tau)
at FAR = 1%, with that tau chosen on View 1 *training* people (peopleDevTrain.txt) and evaluated on the
disjoint View 1 *test* people (peopleDevTest.txt).

By default a documented deterministic subset keeps the encoding cost at ~2,350 images (see
``select``; people sorted by name): calibration uses every 4th multi-image person of peopleDevTrain
(enrolled, one probe each) and every 8th one-image person (distractors); evaluation uses ALL 496
multi-image people of peopleDevTest (enrolled, one probe each: their 2nd image) and every 3rd one-image
person (405 distractors). ``--full`` runs
the complete protocol on every LFW image (13,233 images, ~1 h of 2-core CPU). Embeddings come from
``convapps.face.pipeline`` (default config, whole-image fallback when no face is found) and are cached
in ``benchmarks/out/gallery_openset/embeddings.npz`` with each image's detector metadata
(``--encode-only`` fills it for every LFW image and stops). The gallery is a real SQLite gallery searched exactly.

    .venv/bin/python benchmarks/bench_gallery_openset.py [--full] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convapps.face.lfw import FaceImage, read_people

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "data" / "faces" / "lfw"
ROOT = LFW / "lfw-deepfunneled"
OUT = REPO / "benchmarks" / "out" / "gallery_openset"


@dataclass
class Split:
    """One open-set experiment: who is enrolled with which image, and the probes."""

    enroll: dict[str, str]  # person -> image key
    genuine: list[tuple[str, str]]  # (person, image key) probes of enrolled people
    impostor: list[str]  # image keys of people who are NOT enrolled

    def keys(self) -> list[str]:
        return [*self.enroll.values(), *(k for _, k in self.genuine), *self.impostor]


def key(person: str, number: int) -> str:
    """The cache key of an LFW image: ``lfw-deepfunneled/<name>/<name>_<number:04d>.jpg``."""
    return FaceImage(person, number).path(Path()).as_posix()


def select(people: dict[str, int], *, every: int, distractor_every: int, max_probes: int | None) -> Split:
    """Enroll image 1 of every ``every``-th multi-image person (sorted by name), probe with images
    2..1+max_probes; every ``distractor_every``-th one-image person is a distractor."""
    multi = sorted(p for p, n in people.items() if n >= 2)[::every]
    single = sorted(p for p, n in people.items() if n == 1)[::distractor_every]
    enroll = {p: key(p, 1) for p in multi}
    genuine = [
        (p, key(p, i)) for p in multi for i in range(2, people[p] + 1) if max_probes is None or i - 1 <= max_probes
    ]
    return Split(enroll, genuine, [key(p, 1) for p in single])


# --------------------------------------------------------------------------------------- embeddings
_PIPE: dict[str, object] = {}
QUALITY_FIELDS = ("scores", "boxes", "n_faces", "detected", "sizes")
"""Per-image metadata cached next to the encodings (what a quality weight needs): HOG detector score
(0 for the whole-image fallback), face box (left, top, right, bottom), number of faces found, whether a
face was found, image (height, width)."""


def _init() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    from convapps.face.pipeline import FaceConfig, FacePipeline

    torch.set_num_threads(1)
    _PIPE["pipe"] = FacePipeline(FaceConfig(fallback_whole_image=True))


def _encode(image_key: str) -> tuple[str, np.ndarray, dict[str, object]]:
    """``FacePipeline.encode_one`` (largest face, whole-image fallback) plus the detector's metadata."""
    from convapps.io.images import load_image

    pipe = _PIPE["pipe"]
    rgb = load_image(LFW / image_key)
    faces = pipe.detect(rgb)  # type: ignore[attr-defined]
    face = faces[0] if faces else pipe.whole_image_face(rgb)  # type: ignore[attr-defined]
    emb = pipe.encode_chips(pipe.align(rgb, face)[None])[0]  # type: ignore[attr-defined]
    meta = {
        "scores": face.score,
        "boxes": face.box,
        "n_faces": len(faces),
        "detected": face.detected,
        "sizes": rgb.shape[:2],
    }
    return image_key, emb, meta


def load_cache() -> dict[str, np.ndarray]:
    """The cached arrays (``keys``, ``embeddings`` and the :data:`QUALITY_FIELDS`); empty when none."""
    cache_file = OUT / "embeddings.npz"
    if not cache_file.exists():
        return {}
    with np.load(cache_file, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def embeddings(keys: list[str], *, workers: int) -> dict[str, np.ndarray]:
    """Encodings of the images ``keys`` (largest face, mirror-averaged), cached and resumable.

    Missing images are computed in the order of ``keys`` and saved every 200 images."""
    OUT.mkdir(parents=True, exist_ok=True)
    cache_file = OUT / "embeddings.npz"
    cached = load_cache()
    have: dict[str, np.ndarray] = dict(
        zip(cached.get("keys", np.array([])).tolist(), cached.get("embeddings", []), strict=True)
    )
    meta: dict[str, dict[str, object]] = {}
    if cached and all(f in cached for f in QUALITY_FIELDS):
        for i, name in enumerate(cached["keys"].tolist()):
            meta[name] = {f: cached[f][i] for f in QUALITY_FIELDS}
    missing = [k for k in dict.fromkeys(keys) if k not in have]
    print(f"embeddings: {len(keys) - len(missing)} cached, {len(missing)} to compute", file=sys.stderr)
    if missing:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        from tqdm import tqdm

        def save() -> None:
            names = list(have)
            arrays: dict[str, np.ndarray] = {"keys": np.array(names), "embeddings": np.stack([have[n] for n in names])}
            if all(n in meta for n in names):
                for f in QUALITY_FIELDS:
                    arrays[f] = np.array([meta[n][f] for n in names])
            tmp = cache_file.with_suffix(".tmp.npz")
            np.savez(tmp, **arrays)  # type: ignore[arg-type]
            tmp.replace(cache_file)

        with ProcessPoolExecutor(workers, mp_context=mp.get_context("forkserver"), initializer=_init) as pool:
            results = pool.map(_encode, missing, chunksize=8)
            for done, (name, emb, info) in enumerate(
                tqdm(results, total=len(missing), file=sys.stderr, mininterval=30), start=1
            ):
                have[name] = emb
                meta[name] = info
                if done % 200 == 0:
                    save()
        save()
    return {k: have[k] for k in keys}


def all_keys() -> list[str]:
    """Every LFW image, peopleDevTrain people first (they calibrate), then peopleDevTest."""
    keys: list[str] = []
    for file in ("peopleDevTrain.txt", "peopleDevTest.txt"):
        people = read_people(LFW / file)
        keys += [key(p, i) for p in sorted(people) for i in range(1, people[p] + 1)]
    return keys


# --------------------------------------------------------------------------------------- evaluation
def nearest(split: Split, emb: dict[str, np.ndarray], space: object) -> tuple[list[str | None], np.ndarray]:
    """Enroll the split in a fresh SQLite gallery and return, for every probe (genuine then impostor),
    the nearest identity's name and squared distance."""
    from convapps.gallery import open_gallery

    probes = [k for _, k in split.genuine] + split.impostor
    with tempfile.TemporaryDirectory() as tmp, open_gallery(Path(tmp) / "g.db", space=space) as gallery:
        gallery.enroll_many([(p, emb[k], None) for p, k in split.enroll.items()])
        found = gallery.search(np.stack([emb[k] for k in probes]))
    return [m[0].identity.name if m else None for m in found], np.array([m[0].distance for m in found])


def rates(split: Split, names: list[str | None], dist: np.ndarray, tau: float) -> dict[str, float]:
    g = len(split.genuine)
    correct = np.array([names[i] == p for i, (p, _) in enumerate(split.genuine)])
    return {
        "rank1": float(correct.mean()),
        "dir": float((correct & (dist[:g] <= tau)).mean()),
        "far": float((dist[g:] <= tau).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="every LFW image (13,233), not the subset")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--encode-only", action="store_true", help="fill the cache for every LFW image and stop")
    args = parser.parse_args()
    if not ROOT.is_dir():
        sys.exit(f"LFW not found at {ROOT}")
    if args.encode_only:
        embeddings(all_keys(), workers=args.workers)
        return
    from convapps.face.encoders import load_encoder

    encoder = load_encoder(None)
    default_tau = float(encoder.default_tau)
    train_people = read_people(LFW / "peopleDevTrain.txt")
    test_people = read_people(LFW / "peopleDevTest.txt")
    if args.full:
        calib = select(train_people, every=1, distractor_every=1, max_probes=None)
        evaluation = select(read_people(LFW / "lfw-names.txt"), every=1, distractor_every=1, max_probes=None)
        held_out = select(test_people, every=1, distractor_every=1, max_probes=None)
    else:
        calib = select(train_people, every=4, distractor_every=8, max_probes=1)
        evaluation = held_out = select(test_people, every=1, distractor_every=3, max_probes=1)
    t0 = time.time()
    emb = embeddings(list(dict.fromkeys(calib.keys() + evaluation.keys() + held_out.keys())), workers=args.workers)
    t_enc = time.time() - t0

    _, c_dist = nearest(calib, emb, encoder.space)
    imp = np.sort(c_dist[len(calib.genuine) :])
    tau_far1 = float(np.quantile(imp, 0.01))  # 1% of calibration distractors are accepted
    e_names, e_dist = nearest(evaluation, emb, encoder.space)
    at_default = rates(evaluation, e_names, e_dist, default_tau)
    at_library = rates(evaluation, e_names, e_dist, 0.36)
    if held_out is not evaluation:
        h_names, h_dist = nearest(held_out, emb, encoder.space)
        at_far1 = rates(held_out, h_names, h_dist, tau_far1)
    else:
        at_far1 = rates(evaluation, e_names, e_dist, tau_far1)

    mode = "full LFW" if args.full else "deterministic subset"
    print(f"\nOpen-set identification, LFW deep-funneled ({mode}); encoding {t_enc:.0f} s")
    print(
        f"evaluation: {len(evaluation.enroll)} enrolled (1 image each), {len(evaluation.genuine)} genuine probes, "
        f"{len(evaluation.impostor)} distractor probes (not enrolled)"
    )
    print(
        f"calibration (peopleDevTrain): {len(calib.enroll)} enrolled, {len(calib.genuine)} genuine, "
        f"{len(calib.impostor)} distractors"
    )
    print(f"rank-1 accuracy of enrolled probes         : {at_default['rank1']:.4f}")
    print(
        f"FAR of distractors at default tau={default_tau:.3f}  : {at_default['far']:.4f} (DIR {at_default['dir']:.4f})"
    )
    print(f"FAR at face_recognition's 0.6 L2 (tau=0.36): {at_library['far']:.4f} (DIR {at_library['dir']:.4f})")
    print(f"tau at FAR=1% on peopleDevTrain            : {tau_far1:.4f}")
    print(f"DIR at that tau (peopleDevTest)            : {at_far1['dir']:.4f}  (its FAR there: {at_far1['far']:.4f})")


if __name__ == "__main__":
    main()
