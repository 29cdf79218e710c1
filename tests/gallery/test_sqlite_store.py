"""SQLite-only guarantees: owner-only file, WAL journal, clear errors for locked and unreadable files."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

import numpy as np
import pytest

from convapps.errors import GalleryLockedError, GalleryUnreadableError
from convapps.gallery import open_gallery

from .conftest import SPACE


def test_file_is_owner_only_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "g.db"
    with open_gallery(path, space=SPACE) as gallery:
        gallery.enroll("alice", np.ones(SPACE.dim, np.float32))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        wal = path.with_name("g.db-wal")
        assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_locked_gallery_fails_fast_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    with open_gallery(path, space=SPACE) as gallery:
        gallery.enroll("alice", np.ones(SPACE.dim, np.float32))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with open_gallery(path, space=SPACE, lock_timeout_s=0.2) as gallery:
            start = time.monotonic()
            with pytest.raises(GalleryLockedError, match="locked by another process"):
                gallery.enroll("bob", np.zeros(SPACE.dim, np.float32))
            assert time.monotonic() - start < 3
            assert [p.name for p in gallery.identities()] == ["alice"]  # readers are not blocked (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_garbage_file_is_reported_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(GalleryUnreadableError, match="not a readable SQLite file"):
        open_gallery(path, space=SPACE)
    assert path.read_bytes() == b"this is not a database" * 100


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE songs (title TEXT)")
    with pytest.raises(GalleryUnreadableError, match="not a convapps gallery"):
        open_gallery(path, space=SPACE)


def test_unreadable_gallery_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    open_gallery(path, space=SPACE).close()
    with pytest.raises(GalleryUnreadableError, match="folder"):
        open_gallery(tmp_path, space=SPACE)
    if os.geteuid() != 0:  # root reads files whatever their mode
        path.chmod(0)
        try:
            with pytest.raises(GalleryUnreadableError):
                open_gallery(path, space=SPACE)
        finally:
            path.chmod(0o600)


def test_changes_by_another_connection_are_seen_by_search(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    with open_gallery(path, space=SPACE) as reader, open_gallery(path, space=SPACE) as writer:
        writer.enroll("alice", np.ones(SPACE.dim, np.float32))
        assert reader.search(np.ones(SPACE.dim))[0][0].identity.name == "alice"
        writer.enroll("bob", -np.ones(SPACE.dim, np.float32))
        writer.remove("alice")
        assert reader.search(np.ones(SPACE.dim))[0][0].identity.name == "bob"
