"""Milvus-only behaviour: a Milvus Lite file opened by another process is reported as locked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from convapps.errors import GalleryLockedError
from convapps.gallery import open_gallery

from .conftest import SPACE

HOLDER = textwrap.dedent(
    """
    import sys, time
    from convapps.gallery import EmbeddingSpace, open_gallery
    gallery = open_gallery(sys.argv[1], space=EmbeddingSpace({model!r}, {dim}))
    print("open", flush=True)
    time.sleep(60)
    """
)


def test_milvus_lite_file_held_by_another_process_is_locked(tmp_path: Path) -> None:
    url = f"milvus:///{tmp_path / 'held.db'}"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(model=SPACE.model_id, dim=SPACE.dim), url],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        start = time.monotonic()
        with pytest.raises(GalleryLockedError, match="open in another process"):
            open_gallery(url, space=SPACE)
        assert time.monotonic() - start < 5
    finally:
        holder.kill()
        holder.wait(timeout=30)
    with open_gallery(url, space=SPACE) as gallery:  # free again once the holder is gone
        assert len(gallery) == 0
