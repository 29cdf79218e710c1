"""Where indexing time goes, per photo and per core: read + hash, decode, detect, align + encode, write.

The figures behind the scale-on-paper estimate (``docs/face/ARCHIVE_SCALE.md``). Photos: group photos
built from LFW (a row of 5 people, as ``bench_face_small.py`` builds them), saved as JPEG (quality 90) at
the sizes archives hold: an LFW-size single portrait (250x250), 1 MP, 3 MP and 12 MP (a phone's
photo). One process, one math thread (as each ``face index`` worker runs), the archive's face config;
each stage timed on every photo, medians reported. "write" is one SQLite transaction of 8 photos with their
faces, divided by 8, as the indexer writes.

    .venv/bin/python benchmarks/bench_face_stages.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench_face_small import make_scenes

SIZES = {"portrait 250x250": (250, 250), "1 MP": (1155, 866), "3 MP": (2000, 1500), "12 MP": (4000, 3000)}


def group_photo(pipe, width: int, height: int, seed: int) -> bytes:  # type: ignore[no-untyped-def]
    """A JPEG of a row of LFW people, resized to ``width`` x ``height`` (the portrait: one LFW photo)."""
    if (width, height) == (250, 250):
        rgb = make_scenes(pipe, 1, seed)[0][0][:, 20:270]  # the first person of a row, one portrait
        rgb = np.asarray(Image.fromarray(rgb).resize((250, 250)))
    else:
        rgb, _ = make_scenes(pipe, 1, seed)[0]
        canvas = Image.new("RGB", (width, height), (118, 118, 118))
        row = Image.fromarray(rgb)
        scale = min(width / row.width, 0.6 * height / row.height)
        row = row.resize((round(row.width * scale), round(row.height * scale)), Image.LANCZOS)
        canvas.paste(row, ((width - row.width) // 2, (height - row.height) // 2))
        rgb = np.asarray(canvas)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=90)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from convapps.engine.runners import limit_threads

    limit_threads(1)
    from convapps.face.archive.indexing import ARCHIVE_FACE_CONFIG
    from convapps.face.pipeline import FacePipeline
    from convapps.gallery import open_archive_index
    from convapps.gallery.archive_base import NewFaces, PhotoRecord
    from convapps.io.images import load_image

    floor = ARCHIVE_FACE_CONFIG.min_face_px
    print(f"load before {os.getloadavg()[0]:.2f}; one thread; archive config min_face_px={floor}")
    pipe = FacePipeline(ARCHIVE_FACE_CONFIG)
    with tempfile.TemporaryDirectory() as tmp:
        index = open_archive_index(Path(tmp) / "stages.db", space=pipe.encoder.space)
        for label, (width, height) in SIZES.items():
            times: dict[str, list[float]] = {"read+hash": [], "decode": [], "detect": [], "align+encode": []}
            faces_seen, pending, write_times = [], [], []
            for r in range(args.repeats):
                path = Path(tmp) / f"{label.replace(' ', '_')}_{r}.jpg"
                path.write_bytes(group_photo(pipe, width, height, seed=100 + r))
                t0 = time.perf_counter()
                data = path.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                t1 = time.perf_counter()
                rgb = load_image(data)
                t2 = time.perf_counter()
                faces = pipe.detect(rgb)
                t3 = time.perf_counter()
                enc = (
                    pipe.encode_chips(np.stack([pipe.align(rgb, f) for f in faces]))
                    if faces
                    else np.zeros((0, 128), np.float32)
                )
                t4 = time.perf_counter()
                for name, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                    times[name].append(seconds)
                faces_seen.append(len(faces))
                record = PhotoRecord(str(path), digest, len(data), 0)
                pending.append((record, NewFaces([f.box for f in faces], [f.score for f in faces], enc)))
                if len(pending) == 8 or r == args.repeats - 1:
                    t5 = time.perf_counter()
                    index.put_photos(pending)
                    write_times.append((time.perf_counter() - t5) / len(pending))
                    pending.clear()
            med = {k: statistics.median(v) * 1000 for k, v in times.items()}
            med["write"] = statistics.median(write_times) * 1000
            total = sum(med.values())
            parts = ", ".join(f"{k} {v:.0f} ms ({v / total:.0%})" for k, v in med.items())
            print(
                f"{label:17s} faces/photo {statistics.mean(faces_seen):.1f}: {total:.0f} ms/photo/core "
                f"({1000 / total:.2f} photos/s/core) | {parts}",
                flush=True,
            )
        index.close()
    print(f"load after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
