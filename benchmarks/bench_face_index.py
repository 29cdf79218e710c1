"""Indexing throughput: ``convapps face index`` through Ray Data (embedded local Ray) against our plain
multi-process encoder (``face.batch.encode_images``, the same pipeline and archive face config, every
face) on the same folder, in one run, alternating.

The folder: the first ``--images`` LFW photos (sorted by person), read in place. Each Ray run starts
from a fresh index and includes Ray's start-up, as a user's command does; the local-engine run of
``face index`` is shown too (same indexing code, worker processes instead of Ray). Figures: images/s
and the ratio Ray / plain. Target: the engine costs <= 10 % (ratio >= 0.9).

    .venv/bin/python benchmarks/bench_face_index.py [--images 600] [--workers 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "data" / "faces" / "lfw" / "lfw-deepfunneled"


def folder_of(n: int, into: Path) -> Path:
    """A folder of symbolic links to the first ``n`` LFW photos (photos stay where they are)."""
    photos = sorted(LFW.rglob("*.jpg"))[:n]
    for photo in photos:
        link = into / photo.parent.name / photo.name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(photo)
    return into


def plain(paths: list[Path], workers: int) -> float:
    from convapps.face.archive.indexing import ARCHIVE_FACE_CONFIG
    from convapps.face.batch import encode_images

    started = time.perf_counter()
    results = encode_images(paths, config=ARCHIVE_FACE_CONFIG, workers=workers, progress=False)
    faces = sum(len(r.boxes) for r in results)
    seconds = time.perf_counter() - started
    rate = len(paths) / seconds
    print(f"  plain multi-process encoder: {rate:.2f} img/s ({faces} faces, {seconds:.1f} s)", flush=True)
    return rate


def indexed(root: Path, engine: str, workers: int, db: Path) -> float:
    from convapps.engine.runners import EngineConfig
    from convapps.face.archive.indexing import index_archive
    from convapps.face.encoders import load_encoder
    from convapps.gallery import open_archive_index

    db.unlink(missing_ok=True)
    with open_archive_index(db, space=load_encoder(None).space) as index:
        report = index_archive(root, index, engine=EngineConfig(kind=engine, workers=workers), progress=False)  # type: ignore[arg-type]
    rate = report.indexed / report.seconds
    print(f"  face index, {engine} engine: {rate:.2f} img/s ({report.faces} faces, {report.seconds:.1f} s)", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"load before {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = folder_of(args.images, Path(tmp) / "photos")
        paths = sorted(p for p in root.rglob("*.jpg"))
        rates: dict[str, list[float]] = {"plain": [], "ray": [], "local": []}
        for round_ in range(args.rounds):
            print(f"round {round_ + 1}", flush=True)
            rates["plain"].append(plain(paths, args.workers))
            rates["ray"].append(indexed(root, "ray", args.workers, Path(tmp) / "ray.db"))
            rates["local"].append(indexed(root, "local", args.workers, Path(tmp) / "local.db"))
    best = {k: max(v) for k, v in rates.items()}
    print(
        f"best of {args.rounds}: ray {best['ray']:.2f} img/s, local engine {best['local']:.2f}, "
        f"plain {best['plain']:.2f}; "
        f"ratio ray / plain {best['ray'] / best['plain']:.2f}, local / plain {best['local'] / best['plain']:.2f}"
    )
    print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    main()
