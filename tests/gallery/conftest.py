"""Fixtures for the gallery contract suite: every test runs on SQLite, on Milvus Lite and on a real Milvus
server (the session's ``milvus_server``, in a database of its own per test and name)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from convapps.gallery import EmbeddingSpace, Gallery, open_gallery

SPACE = EmbeddingSpace("test-encoder-v1", 16, "squared_l2")
OTHER_SPACE = EmbeddingSpace("another-encoder", 16, "squared_l2")

BACKENDS = ["sqlite", "milvus", "milvus-server"]
SERVER: dict[str, str] = {}
"""``address``: the session's Milvus server, set by the ``backend`` fixture when a test runs on it."""


def gallery_url(backend: str, folder: Path, name: str = "gallery") -> str:
    """A fresh gallery location of ``backend`` for ``folder`` (a test's own tmp_path), in the public URL form:
    a file in it, or on the server a database named after it."""
    if backend == "sqlite":
        return f"sqlite:///{folder / name}.db"
    if backend == "milvus":
        return f"milvus:///{folder / name}-milvus.db"
    database = re.sub(r"[^A-Za-z0-9_]", "_", f"t_{folder.name}_{name}")[:255]
    return f"milvus://{SERVER['address']}/{database}"


def unit(rng: np.random.Generator, n: int, dim: int = SPACE.dim) -> np.ndarray:
    """``n`` random unit-norm encodings, shape (n, dim)."""
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "milvus-server":
        SERVER["address"] = request.getfixturevalue("milvus_server")
    return str(request.param)


@pytest.fixture
def make_gallery(backend: str, tmp_path: Path) -> Iterator[Callable[..., Gallery]]:
    """Factory opening galleries on this test's backend; all are closed at teardown."""
    opened: list[Gallery] = []

    def _open(name: str = "gallery", **kwargs: object) -> Gallery:
        kwargs.setdefault("space", SPACE)
        gallery = open_gallery(gallery_url(backend, tmp_path, name), **kwargs)  # type: ignore[arg-type]
        opened.append(gallery)
        return gallery

    yield _open
    for gallery in opened:
        gallery.close()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
