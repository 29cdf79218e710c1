"""Threads per worker on a busy machine: CPU and wall time per photo, idle and with another job on a core.

An encoder process given all the machine's cores (torch's default: one thread per core) wastes CPU when
another job holds one of them: its OpenMP threads wait for the slowest (spinning, then sleeping), so the CPU
spent per photo grows several-fold while the wall time grows too. With one math thread per worker (what
``face index`` uses, ``--threads-per-worker 1``), a busy core only takes its share.

For each setting, a fresh process detects, aligns and encodes the same LFW photos (the archive's pipeline),
measuring its own CPU time (all its threads) and wall time over the photos, after one warm-up photo;
"loaded" runs have a second process spinning on one core the whole time.

    .venv/bin/python benchmarks/bench_face_threads.py [--images 40] [--stage all|encode]

``--stage encode`` times the ResNet alone on chips cut beforehand (the part with math threads: detection
is dlib's HOG, one thread whatever the setting).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "data" / "faces" / "lfw" / "lfw-deepfunneled"
SPIN = "import time\nend = time.time() + 3600\nwhile time.time() < end:\n    pass\n"


def child(images: int, threads: int, stage: str) -> None:
    """Index ``images`` photos (``stage="all"``: detect + encode; ``"encode"``: only the ResNet on their
    chips, cut beforehand) with ``threads`` math threads; print CPU and wall seconds per photo (JSON)."""
    from convapps.engine.runners import limit_threads

    limit_threads(threads)
    import numpy as np

    from convapps.face.archive.indexing import ARCHIVE_FACE_CONFIG
    from convapps.face.pipeline import FacePipeline
    from convapps.io.images import load_image

    pipe = FacePipeline(ARCHIVE_FACE_CONFIG)
    photos = sorted(LFW.rglob("*.jpg"))[: images + 1]

    def one(path: Path) -> int:
        rgb = load_image(path)
        faces = pipe.detect(rgb)
        if faces:
            pipe.encode_chips(np.stack([pipe.align(rgb, f) for f in faces]))
        return len(faces)

    if stage == "encode":
        chips = []
        for path in photos:
            rgb = load_image(path)
            chips.append(
                np.stack([pipe.align(rgb, f) for f in pipe.detect(rgb)] or [np.zeros((150, 150, 3), np.uint8)])
            )

        def one(index: int) -> int:  # type: ignore[misc]
            pipe.encode_chips(chips[index])
            return len(chips[index])

        items: list = list(range(len(photos)))
    else:
        items = photos
    one(items[0])  # warm-up: lazy model state, first allocations
    cpu, wall = time.process_time(), time.perf_counter()
    faces = sum(one(p) for p in items[1:])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(json.dumps({"cpu": cpu / images, "wall": wall / images, "faces": faces}))


def measure(images: int, threads: int, loaded: bool, stage: str) -> dict[str, float]:
    spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if loaded else None
    try:
        time.sleep(0.5 if loaded else 0)
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--images", str(images), "--threads", str(threads), "--stage", stage],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stage", choices=["all", "encode"], default="all", help="encode: the ResNet alone")
    args = parser.parse_args()
    if args.child:
        child(args.images, args.threads, args.stage)
        return
    cores = os.cpu_count() or 1
    what = "archive pipeline (detect + encode)" if args.stage == "all" else "the ResNet alone on their chips"
    print(f"{args.images} LFW photos, {what}; {cores} cores; load before: {os.getloadavg()[0]:.2f}")
    rows = {}
    for threads in sorted({cores, 1}, reverse=True):
        for loaded in (False, True):
            r = measure(args.images, threads, loaded, args.stage)
            rows[(threads, loaded)] = r
            state = "another job on a core" if loaded else "idle"
            print(
                f"  threads {threads} ({'all cores' if threads == cores else 'one'}), {state:22s}: "
                f"CPU {r['cpu'] * 1000:6.0f} ms/photo, wall {r['wall'] * 1000:6.0f} ms/photo",
                flush=True,
            )
    for threads in sorted({cores, 1}, reverse=True):
        idle, busy = rows[(threads, False)], rows[(threads, True)]
        cpu, wall = busy["cpu"] / idle["cpu"], busy["wall"] / idle["wall"]
        print(f"threads {threads}: under load CPU x{cpu:.2f}, wall x{wall:.2f}")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
