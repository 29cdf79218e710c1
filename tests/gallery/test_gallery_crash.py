"""A process killed with SIGKILL in the middle of a bulk enroll leaves a readable gallery in which every
committed identity is intact (both backends, with a real subprocess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from convapps.gallery import open_gallery

from .conftest import SPACE, gallery_url

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from convapps.gallery import EmbeddingSpace, open_gallery

    space = EmbeddingSpace({model!r}, {dim})
    with open_gallery(sys.argv[1], space=space) as gallery:
        print("ready", flush=True)
        for i in range(100_000):
            enc = np.random.default_rng(i).standard_normal((3, {dim})).astype(np.float32)
            gallery.enroll(f"person {{i}}", enc)
            print(f"committed {{i}}", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_during_bulk_enroll_keeps_committed_identities(backend: str, tmp_path: Path) -> None:
    url = gallery_url(backend, tmp_path, "crash")
    script = WRITER.format(model=SPACE.model_id, dim=SPACE.dim)
    proc = subprocess.Popen([sys.executable, "-c", script, url], stdout=subprocess.PIPE, text=True)
    committed: list[int] = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("committed"):
                committed.append(int(line.split()[1]))
            if len(committed) >= 25 or time.monotonic() > deadline:
                break
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of the next enroll
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert len(committed) >= 25, "the writer did not get going"

    with open_gallery(url, space=SPACE) as gallery:
        people = {p.name: p for p in gallery.identities()}
        for i in committed:
            name = f"person {i}"
            assert name in people, f"committed identity {name!r} lost"
            expected = np.random.default_rng(i).standard_normal((3, SPACE.dim)).astype(np.float32)
            np.testing.assert_allclose(gallery.encodings_of(name), expected, atol=1e-6)
        # whatever was in flight is either entirely there or entirely absent
        assert all(p.n_encodings == 3 for p in people.values())
        assert len(people) in (len(committed), len(committed) + 1)
        probe = np.random.default_rng(committed[-1]).standard_normal(SPACE.dim).astype(np.float32)
        assert gallery.search(probe)[0][0].identity.name == f"person {committed[-1]}"
        gallery.enroll("after the crash", np.ones(SPACE.dim, np.float32))  # still writable
        assert gallery.get("after the crash").n_encodings == 1
