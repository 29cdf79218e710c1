"""The SQLite plumbing every convapps store shares: a private file (0600 in a 0700 folder when new), one
connection in autocommit mode with WAL journal and full sync, ``BEGIN IMMEDIATE`` transactions, and
SQLite's exceptions turned into convapps' one-line errors."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from convapps.errors import ConflictError, GalleryLockedError, GalleryUnreadableError


def create_private_file(path: Path) -> None:
    """Create ``path`` (and a 0700 parent folder if missing) with mode 0600, unless it exists."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


@contextlib.contextmanager
def sqlite_errors(what: str, action: str) -> Iterator[None]:
    """Turn SQLite errors inside the block into :class:`ConflictError` (constraint),
    :class:`GalleryLockedError` (another writer) or :class:`GalleryUnreadableError`; ``what`` names the
    store (``"gallery x.db"``), ``action`` the verb (``"read"``)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise ConflictError(f"{what}: {exc}") from exc
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise GalleryLockedError(f"{what} is locked by another process (cannot {action}); try again") from exc
        raise GalleryUnreadableError(f"cannot {action} {what}: {text}") from exc
    except sqlite3.DatabaseError as exc:
        raise GalleryUnreadableError(f"{what} is not a readable SQLite file: {exc}") from exc


class SqliteFile:
    """One SQLite file opened the convapps way; ``what`` names it in errors (``"archive index a.db"``)."""

    def __init__(self, path: Path, *, what: str, lock_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self.what = what
        self.lock = threading.RLock()
        if self.path.is_dir():
            raise GalleryUnreadableError(f"{what} is a folder, not a SQLite file")
        try:
            create_private_file(self.path)
        except OSError as exc:
            raise GalleryUnreadableError(f"cannot create {what}: {exc.strerror}") from exc
        with sqlite_errors(what, "open"):
            self.db = sqlite3.connect(self.path, timeout=lock_timeout_s, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = FULL")

    @contextlib.contextmanager
    def reading(self, action: str = "read") -> Iterator[sqlite3.Connection]:
        """The connection, under the lock, with errors translated."""
        with self.lock, sqlite_errors(self.what, action):
            yield self.db

    @contextlib.contextmanager
    def transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any exception), errors translated."""
        with self.lock, sqlite_errors(self.what, action):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.db.close()
