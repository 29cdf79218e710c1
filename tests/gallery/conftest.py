"""Fixtures for the gallery contract suite: every test runs on SQLite and on Milvus Lite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from convapps.gallery import EmbeddingSpace, Gallery, open_gallery

SPACE = EmbeddingSpace("test-encoder-v1", 16, "squared_l2")
OTHER_SPACE = EmbeddingSpace("another-encoder", 16, "squared_l2")

BACKENDS = ["sqlite", "milvus"]


def gallery_url(backend: str, folder: Path, name: str = "gallery") -> str:
    """A fresh gallery location of ``backend`` inside ``folder``, in the public URL form."""
    if backend == "sqlite":
        return f"sqlite:///{folder / name}.db"
    return f"milvus:///{folder / name}-milvus.db"


def unit(rng: np.random.Generator, n: int, dim: int = SPACE.dim) -> np.ndarray:
    """``n`` random unit-norm encodings, shape (n, dim)."""
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
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
