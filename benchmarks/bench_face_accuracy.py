"""Face benchmark 1: LFW verification accuracy, ours vs the face_recognition library, same pairs.

Protocol: LFW View 2 (``pairs.txt``, deep-funneled images), 10 folds; per fold, tau picked on the other
9 folds; mean +/- std of the fold accuracies. Also the accuracy at a FIXED tau (the library's 0.6 L2 =
0.36 squared; ours: the default tau chosen on View 1 pairsDevTrain.txt by this script), ROC AUC, and a
ROC PNG. Images where no face is found count, with the whole image as the face box (both pipelines).

Every image is encoded once per pipeline and cached in ``benchmarks/out/face_cache/{ours,library}.npz``
(ours keeps the encoding of the chip and of its mirror image, so the flip ablation costs nothing more).
The caches fill in stratified rounds (``--rounds``: each round adds 30 same + 30 different pairs of
every fold of View 2 and 110 + 110 pairs of View 1 DevTrain), so a run on a busy machine can stop after
a few rounds and still evaluate all 10 folds; ``--rounds 10`` is the full View 2.

Run:  .venv/bin/python benchmarks/bench_face_accuracy.py [--rounds 10] [--workers 2]
(needs face_recognition in benchmarks/out/fr_pkgs, see face_bench_common.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convapps.core.distances import l2_to_squared, squared_l2_distance
from convapps.face.evaluation import LfwReport, report_from_scores
from convapps.face.evaluation_report import save_roc_png
from convapps.face.lfw import FacePair, read_pairs
from convapps.face.metrics import best_threshold
from face_bench_common import LFW, OUT, cached_embeddings, images_of, pair_paths, prioritized_pairs

LIBRARY_TAU = l2_to_squared(0.6)


def _lookup(cache: dict, key: str) -> dict[str, int]:
    return {n: i for i, n in enumerate(cache[key].tolist())}


def distances(cache: dict, pairs: list[FacePair], *, flip: bool) -> np.ndarray:
    index = _lookup(cache, "names")
    emb = cache["embeddings"].astype(np.float64)
    if flip:
        emb = (emb + cache["embeddings_mirror"].astype(np.float64)) / 2.0
    i1 = [index[str(pair_paths(p)[0].relative_to(LFW))] for p in pairs]
    i2 = [index[str(pair_paths(p)[1].relative_to(LFW))] for p in pairs]
    return np.asarray(squared_l2_distance(emb[i1], emb[i2]))


def covered(pairs: list[FacePair], caches: list[dict]) -> list[FacePair]:
    names = [set(c["names"].tolist()) for c in caches]
    return [p for p in pairs if all(all(str(q.relative_to(LFW)) in n for q in pair_paths(p)) for n in names)]


def no_face(cache: dict, pairs: list[FacePair]) -> list[str]:
    index = _lookup(cache, "names")
    used = {str(q.relative_to(LFW)) for p in pairs for q in pair_paths(p)}
    return sorted(n for n in used if not cache["detected"][index[n]])


def line(label: str, r: LfwReport) -> str:
    assert r.cv is not None
    return (
        f"{label:<34} {len(r.cv.fold_accuracies)}-fold {100 * r.cv.mean:6.2f}% +/- {100 * r.cv.std:4.2f}"
        f"   at tau={r.figures.tau:.4f}: "
        f"{100 * r.figures.accuracy:6.2f}%   AUC {r.figures.auc:.5f}   no face: {len(r.no_face)}"
    )


def report(pairs: list[FacePair], cache: dict, *, flip: bool, tau: float, label: str) -> LfwReport:
    """The k-fold report of ``pairs`` scored from one embedding cache (the library's evaluation code)."""
    return report_from_scores(
        distances(cache, pairs, flip=flip),
        [p.same for p in pairs],
        tau=tau,
        tau_source="fixed",
        folds=[p.fold for p in pairs],
        scorer=label,
        no_face=no_face(cache, pairs),
    )


LIBCFG = {"upsample": 1, "retry_upsample": False}


def jitter_ablation(pairs: list[FacePair], jitters: int, tau: float) -> dict[str, float]:
    """Accuracy and cost of dlib's jitter (on top of flip) on a few pairs, computed live (dlib backend)."""
    import time

    from convapps.face.encoders import DlibResnetEncoder
    from convapps.face.pipeline import FaceConfig, FacePipeline
    from convapps.io.images import load_image

    out: dict[str, float] = {}
    for label, n in (("flip", 0), (f"flip+jitter{jitters}", jitters)):
        pipe = FacePipeline(
            FaceConfig(jitters=n, fallback_whole_image=True), DlibResnetEncoder(backend="dlib" if n else "torch")
        )
        emb: dict[Path, np.ndarray] = {}
        t0 = time.process_time()
        for path in images_of(pairs):
            emb[path] = pipe.encode_one(load_image(path), name=str(path)).embedding
        cpu = (time.process_time() - t0) / len(emb)
        d = np.array([float(squared_l2_distance(*(emb[q] for q in pair_paths(p)))) for p in pairs])
        same = np.array([p.same for p in pairs])
        out[f"{label} accuracy at tau"] = float(np.mean((d <= tau) == same))
        out[f"{label} cpu s/img"] = cpu
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="stratified rounds of pairs to use (10 = all)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cached-only", action="store_true", help="evaluate the pairs already cached; encode nothing")
    parser.add_argument("--jitter-pairs", type=int, default=0, help="also measure dlib jitter on this many pairs")
    parser.add_argument("--jitters", type=int, default=10)
    args = parser.parse_args()

    view2_all = prioritized_pairs(read_pairs(LFW / "pairs.txt"), rounds=10)[: 600 * args.rounds]
    dev = prioritized_pairs(read_pairs(LFW / "pairsDevTrain.txt"), rounds=10)[: 220 * args.rounds]
    cache_dir = OUT / "face_cache"
    if args.cached_only:
        ours, libcfg, lib = (dict(np.load(cache_dir / f"{k}.npz")) for k in ("ours", "ours_libcfg", "library"))
    else:
        order: list[FacePair] = []
        for r in range(args.rounds):
            order += dev[r * 220 : (r + 1) * 220] + view2_all[r * 600 : (r + 1) * 600]
        ours = cached_embeddings("ours", images_of(order), workers=args.workers)
        libcfg = cached_embeddings("ours_libcfg", images_of(view2_all), workers=args.workers, config=LIBCFG)
        lib = cached_embeddings("library", images_of(view2_all), workers=args.workers)
    dev = covered(dev, [ours])
    dev_same = np.array([p.same for p in dev])
    tau_flip = best_threshold(distances(ours, dev, flip=True), dev_same)
    tau_plain = best_threshold(distances(ours, dev, flip=False), dev_same)
    print(
        f"tau chosen on View 1 DevTrain ({len(dev)} pairs; max accuracy, midpoint): "
        f"flip {tau_flip:.4f} (L2 {tau_flip**0.5:.4f}), no flip {tau_plain:.4f}"
    )

    lib_index, cfg_index = _lookup(lib, "names"), _lookup(libcfg, "names")
    common = [n for n in lib_index if n in cfg_index]
    diff = np.abs(
        lib["embeddings"][[lib_index[n] for n in common]] - libcfg["embeddings"][[cfg_index[n] for n in common]]
    )
    print(
        f"library vs our pipeline in the library's configuration: max |diff| = {diff.max():.2e} "
        f"over {len(common)} images"
    )

    summary: dict[str, object] = {
        "tau_devtrain_flip": tau_flip,
        "tau_devtrain_plain": tau_plain,
        "dev_pairs": len(dev),
        "max_abs_diff_library_vs_ours_libcfg": float(diff.max()),
        "images_compared": len(common),
    }
    scopes = (
        ("pairs encoded by the real library", [ours, libcfg, lib]),
        ("pairs encoded in the library configuration by our pipeline", [ours, libcfg]),
        ("full", [ours]),
    )
    for scope, caches in scopes:
        view2 = covered(view2_all, caches)
        folds = {p.fold for p in view2}
        print(f"\n== {scope}: {len(view2)} View 2 pairs ({sum(p.same for p in view2)} same) in {len(folds)} folds ==")
        reports = {}
        runs = []
        if len(caches) == 3:
            runs.append(("face_recognition library (real)", lib, False, LIBRARY_TAU))
        if len(caches) >= 2:
            runs.append(("library config (our pipeline)", libcfg, False, LIBRARY_TAU))
        runs.append(("ours: auto upsampling", ours, False, tau_plain))
        runs.append(("ours: auto upsampling + flip", ours, True, tau_flip))
        if len(caches) >= 2:
            runs.append(("ours: library detection + flip", libcfg, True, tau_flip))
        for label, cache, flip, tau in runs:
            reports[label] = report(view2, cache, flip=flip, tau=tau, label=label)
        for label, r in reports.items():
            print(line(label, r))
        summary[scope] = {"pairs": len(view2), **{k: v.to_dict() for k, v in reports.items()}}
        if len(caches) == 2:
            roc = save_roc_png({k: (v.far, v.tar, v.figures.auc) for k, v in reports.items()}, OUT / "face_roc.png")
            print(f"ROC: {roc}")
    if args.jitter_pairs:
        subset = covered(view2_all, [ours])[: args.jitter_pairs]
        jit = jitter_ablation(subset, args.jitters, tau_flip)
        print(f"\njitter ablation on {len(subset)} pairs: {jit}")
        summary["jitter"] = {"pairs": len(subset), **jit}
    secs = {k: float(np.median(c["seconds"])) for k, c in (("library", lib), ("ours", ours), ("ours_libcfg", libcfg))}
    print(f"median wall s/img while caching (shared machine, indicative only): {secs}")
    (OUT / "face_accuracy.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
