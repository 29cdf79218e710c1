"""Export/import of encodings (no images): round trip, model check, all-or-nothing, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convapps.errors import ConflictError, EmbeddingSpaceMismatchError, GalleryUnreadableError
from convapps.gallery import open_gallery
from convapps.gallery.transfer import export_gallery, import_gallery, read_export

from .conftest import OTHER_SPACE, SPACE, unit


def test_round_trip_and_refusals(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    enc = {"ann": unit(rng, 2), "bob": unit(rng, 1)}
    with open_gallery(tmp_path / "a.db", space=SPACE) as source:
        source.enroll("ann", enc["ann"], metadata={"desk": 4})
        source.enroll("bob", enc["bob"])
        assert export_gallery(source, tmp_path / "x.npz") == 2
    space, people = read_export(tmp_path / "x.npz")
    assert space == SPACE and [p[0] for p in people] == ["ann", "bob"]
    with open_gallery(tmp_path / "b.db", space=space) as target:
        target.enroll("bob", unit(rng, 1))
        with pytest.raises(ConflictError, match="bob"):
            import_gallery(target, people)
        assert len(target) == 1  # all or nothing
        added = import_gallery(target, people, skip_existing=True)
        assert [p.name for p in added] == ["ann"] and dict(target.get("ann").metadata) == {"desk": 4}
        np.testing.assert_allclose(target.encodings_of("ann"), enc["ann"], atol=1e-6)
    with open_gallery(tmp_path / "c.db", space=OTHER_SPACE) as other:
        other.enroll("zed", unit(rng, 1))
    with pytest.raises(EmbeddingSpaceMismatchError):
        open_gallery(tmp_path / "c.db", space=space)
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(GalleryUnreadableError):
        read_export(tmp_path / "bad.npz")
