"""Benchmark 2 of issue #3: end-to-end face encoding throughput (decode + detect + align + encode).

The same 500 LFW View 2 images, three passes in one run, each in a fresh process (clean CPU time and
peak memory):

1. ``library``: face_recognition 1.3.0 with its defaults (load_image_file, face_locations = HOG with 1
   upsampling, face_encodings = 5 landmarks, num_jitters=1), one process, as a user calls it.
2. ``ours-library-config``: convapps' pipeline set to the library's configuration
   (``LIBRARY_CONFIG``: HOG, 1 upsampling, no flip, no jitter), one process. Its embeddings must equal
   the library's to 1e-4.
3. ``ours-default``: convapps' default configuration (upsampling chosen per image size, mirror
   averaging) through ``convapps.face.batch.encode_images`` on all cores (2 worker processes).

Run:  .venv/bin/python benchmarks/bench_face_throughput.py [--images 500]
(needs face_recognition in benchmarks/out/fr_pkgs, see face_bench_common.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from face_bench_common import LFW, OUT, import_face_recognition, pair_images


def _images(n: int) -> list[Path]:
    return pair_images(LFW / "pairs.txt", LFW / "lfw-deepfunneled")[:n]


class DescendantMonitor:
    """CPU seconds and peak RSS of this process's descendants, sampled from /proc every 0.1 s.

    ``encode_images`` starts its workers from a forkserver, so they are not our children and
    ``RUSAGE_CHILDREN`` never sees them; this follows the whole process tree instead (Linux only; the last
    < 0.1 s of a worker's CPU may be missed).
    """

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")
        self._page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20

    def __enter__(self) -> DescendantMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            stats = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    stats[int(entry.name)] = (
                        int(fields[1]),
                        (int(fields[11]) + int(fields[12])) / self._tick,
                        int(fields[21]) * self._page_mb,
                    )  # ppid, utime+stime, rss
            tree, frontier = set(), {os.getpid()}
            while frontier:
                frontier = {pid for pid, (ppid, _, _) in stats.items() if ppid in frontier} - tree
                tree |= frontier
            for pid in tree:
                self.cpu[pid] = stats[pid][1]
            self.peak_mb = max(self.peak_mb, sum(stats[pid][2] for pid in tree))


def _rusage() -> tuple[float, float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime, me.ru_maxrss / 1024 + kids.ru_maxrss / 1024


def run_pass(name: str, n: int) -> dict[str, object]:
    """One pass in this process; returns timings and writes embeddings to benchmarks/out/throughput_<name>.npz."""
    paths = _images(n)
    embeddings, boxes = [], []
    if name == "library":
        fr = import_face_recognition()
        fr.face_encodings(fr.load_image_file(str(paths[0])))  # warm-up: model files read, like ours below
        t0, c0 = time.perf_counter(), time.process_time()
        for p in paths:
            img = fr.load_image_file(str(p))
            locs = fr.face_locations(img)
            loc = max(locs, key=lambda c: (c[2] - c[0]) * (c[1] - c[3])) if locs else (0, img.shape[1], img.shape[0], 0)
            embeddings.append(fr.face_encodings(img, known_face_locations=[loc])[0])
            boxes.append((loc[3], loc[0], loc[1], loc[2]))
    elif name == "ours-library-config":
        import torch

        from convapps.face.pipeline import LIBRARY_CONFIG, FacePipeline
        from convapps.io.images import load_image

        torch.set_num_threads(1)  # one core, like the library (and no idle OpenMP spinning on a busy machine)
        pipe = FacePipeline(LIBRARY_CONFIG)
        pipe.detect(load_image(paths[0]))
        t0, c0 = time.perf_counter(), time.process_time()
        for p in paths:
            rgb = load_image(p)
            faces = pipe.detect(rgb)
            face = faces[0] if faces else pipe.whole_image_face(rgb)
            embeddings.append(pipe.encode_chips(pipe.align(rgb, face)[None])[0])
            boxes.append(face.box)
    else:
        from dataclasses import replace

        from convapps.face.batch import encode_images
        from convapps.face.pipeline import FaceConfig

        config = replace(FaceConfig(), fallback_whole_image=True)
        t0, c0 = time.perf_counter(), time.process_time()
        with DescendantMonitor() as workers:
            for r in encode_images(paths, config=config, workers=2, progress=False, largest=True):
                embeddings.append(r.embeddings[0])
                boxes.append(r.boxes[0])
    wall = time.perf_counter() - t0
    _, cpu_kids, peak_mb = _rusage()
    if name == "ours-default":  # workers (and their model loading) are counted from /proc, see DescendantMonitor
        cpu_kids, peak_mb = sum(workers.cpu.values()), peak_mb + workers.peak_mb
    np.savez(OUT / f"throughput_{name}.npz", embeddings=np.asarray(embeddings, np.float32), boxes=np.asarray(boxes))
    return {
        "pass": name,
        "images": len(paths),
        "wall_s": wall,
        "images_per_s": len(paths) / wall,
        "cpu_s_per_image": (time.process_time() - c0 + cpu_kids) / len(paths),
        "peak_rss_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--pass", dest="one_pass", help=argparse.SUPPRESS)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.one_pass:
        print(json.dumps(run_pass(args.one_pass, args.images)))
        return
    results = {}
    for name in ("library", "ours-library-config", "ours-default"):
        proc = subprocess.run(
            [sys.executable, __file__, "--pass", name, "--images", str(args.images)],
            capture_output=True,
            text=True,
            check=True,
        )
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(results[name]), flush=True)
    lib = np.load(OUT / "throughput_library.npz")
    same_cfg = np.load(OUT / "throughput_ours-library-config.npz")
    diff = np.abs(lib["embeddings"] - same_cfg["embeddings"]).max(axis=1)
    print(
        f"library config: max |ours - library| over {len(diff)} images = {diff.max():.2e} "
        f"({int((diff <= 1e-4).sum())}/{len(diff)} within 1e-4)"
    )
    base = results["library"]
    for name in ("ours-library-config", "ours-default"):
        r = results[name]
        print(
            f"{name}: {r['images_per_s']:.2f} img/s vs library {base['images_per_s']:.2f} img/s "
            f"-> {r['images_per_s'] / base['images_per_s']:.2f}x wall; CPU {1000 * r['cpu_s_per_image']:.0f} ms/img vs "
            f"{1000 * base['cpu_s_per_image']:.0f} ms/img; "
            f"peak RSS {r['peak_rss_mb']:.0f} MB vs {base['peak_rss_mb']:.0f} MB"
        )
    (OUT / "throughput.json").write_text(
        json.dumps({**results, "max_abs_diff_library_config": float(diff.max())}, indent=1)
    )


if __name__ == "__main__":
    main()
