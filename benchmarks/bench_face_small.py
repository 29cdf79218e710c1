"""Small faces in group photos: does detection find every face, and how small may a face be?

Two parts, one command:

1. **Group photos.** Rows of 3-6 LFW photos side by side, each person at a random size (45-100 % of the
   original), the whole picture then shrunk to 100 %, 50 % and 35 %, as archives hold them. The truth is
   the face dlib finds in each original photo (the one nearest its centre), moved and scaled with it.
   Detectors: face_recognition 1.3.0 (HOG, 1 upsampling: what its users run), our single-photo default
   (auto upsampling: a face of a third of the photo reaches 80 px; one more step only when nothing is
   found) and the same plus a floor ``min_face_px`` (every face down to that size, within 16 MP scanned)
   at 40 and 28 px (the archive's default is marked).
   Figures: recall (a true face matched with IoU >= 0.3) overall and by face size, seconds per photo.
2. **How small is still useful?** On LFW View 1 *training* pairs (pairsDevTrain), both photos shrunk so
   the face is S px wide, landmarks and chip taken from the small photo: verification accuracy at the
   best threshold on those pairs, per S. The size where it collapses is the floor worth upsampling for.

    .venv/bin/python benchmarks/bench_face_small.py [--scenes 60] [--pairs 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image

from face_bench_common import LFW, import_face_recognition

IMAGES = LFW / "lfw-deepfunneled"
SCALES = (1.0, 0.5, 0.35)
BUCKETS = ((0, 30), (30, 40), (40, 60), (60, 80), (80, 10_000))
Box = tuple[int, int, int, int]


def _centre_face(pipe, rgb: np.ndarray) -> Box | None:  # type: ignore[no-untyped-def]
    faces = pipe.detect(rgb, upsample=1)
    if not faces:
        return None
    h, w = rgb.shape[:2]
    return min(faces, key=lambda f: abs((f.box[0] + f.box[2]) / 2 - w / 2) + abs((f.box[1] + f.box[3]) / 2 - h / 2)).box


def make_scenes(pipe, n: int, seed: int) -> list[tuple[np.ndarray, list[Box]]]:  # type: ignore[no-untyped-def]
    """``n`` group photos (RGB, true face boxes) built from random LFW photos of different people."""
    rng = np.random.default_rng(seed)
    people = sorted(p for p in IMAGES.iterdir() if p.is_dir())
    scenes = []
    while len(scenes) < n:
        k = int(rng.integers(3, 7))
        chosen = rng.choice(len(people), size=k, replace=False)
        tiles, truth = [], []
        for i in chosen:
            photo = sorted(people[i].glob("*.jpg"))[0]
            rgb = np.asarray(Image.open(photo).convert("RGB"))
            box = _centre_face(pipe, rgb)
            if box is None:
                continue
            s = float(rng.uniform(0.45, 1.0))
            side = round(250 * s)
            tiles.append(np.asarray(Image.fromarray(rgb).resize((side, side), Image.BILINEAR)))
            truth.append(tuple(round(v * side / 250) for v in box))
        if len(tiles) < 3:
            continue
        height = max(t.shape[0] for t in tiles) + 40
        canvas = np.full((height, sum(t.shape[1] for t in tiles) + 20 * (len(tiles) + 1), 3), 118, np.uint8)
        x, boxes = 20, []
        for tile, (x0, y0, x1, y1) in zip(tiles, truth, strict=True):
            y = int(rng.integers(0, height - tile.shape[0] + 1))
            canvas[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
            boxes.append((x0 + x, y0 + y, x1 + x, y1 + y))
            x += tile.shape[1] + 20
        scenes.append((canvas, boxes))
    return scenes


def shrink(rgb: np.ndarray, boxes: list[Box], scale: float) -> tuple[np.ndarray, list[Box]]:
    if scale == 1.0:
        return rgb, boxes
    h, w = rgb.shape[:2]
    small = np.asarray(Image.fromarray(rgb).resize((round(w * scale), round(h * scale)), Image.LANCZOS))
    return small, [tuple(round(v * scale) for v in b) for b in boxes]  # type: ignore[misc]


def iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def group_photos(scenes: list[tuple[np.ndarray, list[Box]]]) -> None:
    from convapps.face.archive.indexing import ARCHIVE_FACE_CONFIG
    from convapps.face.pipeline import FaceConfig, FacePipeline

    fr = import_face_recognition()
    ours_default = FacePipeline(FaceConfig())
    floors = sorted({40, 28, 20, ARCHIVE_FACE_CONFIG.min_face_px}, reverse=True)
    ours_floor = {px: FacePipeline(FaceConfig(min_face_px=px)) for px in floors}

    def fr_detect(rgb: np.ndarray) -> list[Box]:
        return [(left, top, right, bottom) for top, right, bottom, left in fr.face_locations(rgb)]

    methods = {
        "face_recognition (HOG, upsample 1)": fr_detect,
        "ours, single-photo default (auto)": lambda rgb: [f.box for f in ours_default.detect(rgb)],
    }
    for px, pipe in ours_floor.items():
        mark = " = archive default" if px == ARCHIVE_FACE_CONFIG.min_face_px else ""
        methods[f"ours, auto + min_face_px={px}{mark}"] = lambda rgb, pipe=pipe: [f.box for f in pipe.detect(rgb)]
    print(f"\n== 1. group photos: {len(scenes)} scenes, {sum(len(b) for _, b in scenes)} faces per scale ==")
    for scale in SCALES:
        shrunk = [shrink(rgb, boxes, scale) for rgb, boxes in scenes]
        sizes = np.array([b[2] - b[0] for _, boxes in shrunk for b in boxes])
        print(f"\nscale {scale:.0%}: faces {sizes.min()}-{sizes.max()} px (median {np.median(sizes):.0f})")
        for name, detect in methods.items():
            hits, extra, seconds = [], 0, 0.0
            for rgb, boxes in shrunk:
                t0 = time.perf_counter()
                found = detect(rgb)
                seconds += time.perf_counter() - t0
                matched = [any(iou(t, f) >= 0.3 for f in found) for t in boxes]
                hits.extend(matched)
                extra += sum(not any(iou(t, f) >= 0.3 for t in boxes) for f in found)
            hit = np.array(hits)
            by_size = []
            for lo, hi in BUCKETS:
                sel = (sizes >= lo) & (sizes < hi)
                if sel.any():
                    label = f"<{hi}" if lo == 0 else (f">={lo}" if hi == 10_000 else f"{lo}-{hi}")
                    by_size.append(f"{label}px {hit[sel].mean():.2f} ({sel.sum()})")
            print(
                f"  {name:44s} recall {hit.mean():.3f} ({hit.sum()}/{hit.size}), other detections {extra}, "
                f"{seconds / len(shrunk) * 1000:.0f} ms/photo | " + ", ".join(by_size),
                flush=True,
            )


def useful_size(n_pairs: int) -> None:
    from convapps.face.lfw import read_pairs
    from convapps.face.pipeline import FaceConfig, FacePipeline

    pipe = FacePipeline(FaceConfig())
    dlib = pipe._dlib
    pairs = read_pairs(LFW / "pairsDevTrain.txt")
    same = [p for p in pairs if p.first.name == p.second.name][: n_pairs // 2]
    diff = [p for p in pairs if p.first.name != p.second.name][: n_pairs // 2]
    chosen = same + diff
    labels = np.array([True] * len(same) + [False] * len(diff))
    paths = sorted({p.first.in_folder(IMAGES) for p in chosen} | {p.second.in_folder(IMAGES) for p in chosen})
    originals = {}
    for path in paths:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        originals[path] = (rgb, _centre_face(pipe, rgb))
    print(f"\n== 2. verification accuracy vs face size: {len(chosen)} View 1 training pairs ==")
    for side in (20, 30, 40, 56, 80, None):
        enc = {}
        for path, (rgb, box) in originals.items():
            if box is None:
                box = (0, 0, 249, 249)
            scale = 1.0 if side is None else side / (box[2] - box[0])
            small, (sbox,) = shrink(rgb, [box], min(1.0, scale))
            rect = dlib.rectangle(*sbox)
            landmarks = pipe._landmarks_in(np.ascontiguousarray(small), rect)
            from convapps.face.pipeline import DetectedFace

            chip = pipe.align(small, DetectedFace(sbox, 0.0, landmarks))
            enc[path] = pipe.encode_chips(chip[None])[0]
        d = np.array([((enc[p.first.in_folder(IMAGES)] - enc[p.second.in_folder(IMAGES)]) ** 2).sum() for p in chosen])
        candidates = np.unique(d)
        acc = max(((d <= t) == labels).mean() for t in candidates)
        label = "original (~110 px)" if side is None else f"{side} px"
        print(f"  face {label:20s} accuracy {acc:.3f} (best threshold on these pairs)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=60)
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", choices=["both", "groups", "size"], default="both")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from convapps.face.pipeline import FaceConfig, FacePipeline

    if args.part in ("both", "groups"):
        scenes = make_scenes(FacePipeline(FaceConfig()), args.scenes, args.seed)
        group_photos(scenes)
    if args.part in ("both", "size"):
        useful_size(args.pairs)


if __name__ == "__main__":
    main()
