"""Batch encoding on two worker processes, .npz and JSON outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from convapps.face.batch import collect_images, encode_images, write_results
from convapps.face.pipeline import default_pipeline
from convapps.io.images import load_image

from .faces_data import blank, lfw


def test_encode_images_in_two_processes(shared_data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    Image.fromarray(blank()).save(tmp_path / "blank.png")
    paths = [lfw(shared_data, "Aaron_Peirsol", 1), tmp_path / "blank.png", lfw(shared_data, "Abel_Pacheco", 1)]
    results = list(encode_images(paths, workers=2, progress=False))
    assert [r.name for r in results] == [str(p) for p in paths]
    assert [len(r.boxes) for r in results] == [1, 0, 1]
    # same numbers as the in-process pipeline
    one = default_pipeline().encode_one(load_image(paths[0]))
    np.testing.assert_allclose(results[0].embeddings[0], one.embedding, atol=1e-5)

    npz = write_results(results, tmp_path / "out.npz", dim=128)
    data = np.load(npz)
    assert data["embeddings"].shape == (2, 128) and data["boxes"].shape == (2, 4)
    assert data["names"].tolist() == [str(paths[0]), str(paths[2])]
    doc = json.loads(write_results(results, tmp_path / "out.json", dim=128).read_text())
    assert doc["no_face"] == [str(paths[1])] and len(doc["faces"][0]["embedding"]) == 128


def test_collect_images_recurses_and_sorts(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.png", "a.jpg", "sub/c.jpeg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    found = collect_images([tmp_path])
    assert [p.name for p in found] == ["a.jpg", "b.png", "c.jpeg"]
