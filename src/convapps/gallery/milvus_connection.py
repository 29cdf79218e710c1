"""One pymilvus connection, shared by the Milvus stores (the identity gallery and the archive index).

It opens Milvus Lite on a local folder (one process per folder; the in-process server stops with the last
store of this process that uses it) or a Milvus server, in the URL's database (created when missing),
reports pymilvus failures as one-line convapps errors, and quotes string literals for Milvus filters.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from convapps.errors import (
    ConvappsError,
    GalleryError,
    GalleryLockedError,
    GalleryUnavailableError,
    GalleryUnreadableError,
)
from convapps.gallery.url import GalleryUrl

_LITE_USERS: dict[str, int] = {}
"""Open stores per Milvus Lite folder in this process: its in-process server stops with the last."""
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(text: str) -> str:
    """A Milvus filter string literal of ``text`` (backslash, quote, newline, return and tab escaped)."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def reason(exc: BaseException) -> str:
    """A one-line reason from a pymilvus exception (its message, else its class name)."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]


class MilvusConnection:
    """A pymilvus ``MilvusClient`` on ``location``; ``what`` ("gallery", "archive index") names the store
    in error messages. ``client`` is the open client; ``close()`` releases it. The URL's server database is
    created when missing, unless ``create`` is False (then GalleryUnreadableError)."""

    def __init__(self, location: GalleryUrl, *, what: str, timeout_s: float, create: bool = True) -> None:
        self.url, self.what = str(location), what
        try:
            from pymilvus import MilvusClient  # type: ignore[import-untyped,unused-ignore]
        except ImportError as exc:  # pragma: no cover - pymilvus is a dependency
            raise GalleryUnavailableError(f"a Milvus {what} needs pymilvus: pip install pymilvus") from exc
        for logger in ("pymilvus", "pymilvus.milvus_client", "milvus_lite"):  # we report errors in one line
            logging.getLogger(logger).setLevel(logging.CRITICAL)
        self._lite_path = _prepare_lite_folder(location, what) if location.path is not None else None
        if self._lite_path is not None and self._lite_path not in _LITE_USERS:
            _check_lite_lock(Path(self._lite_path), what, self.url)
        uri = self._lite_path if self._lite_path is not None else location.server_uri
        try:
            self.client: Any = MilvusClient(uri=uri, timeout=timeout_s)
        except Exception as exc:
            kind = f"open Milvus Lite {what}" if location.path is not None else "reach the Milvus server at"
            raise GalleryUnavailableError(f"cannot {kind} {self.url}: {reason(exc)}") from exc
        if self._lite_path is not None:
            _LITE_USERS[self._lite_path] = _LITE_USERS.get(self._lite_path, 0) + 1
        if location.database is not None:
            try:
                with self.errors("open"):
                    if location.database not in self.client.list_databases():
                        if not create:
                            raise GalleryUnreadableError(
                                f"there is no {what} at {self.url} (the server has no database {location.database!r})"
                            )
                        self.client.create_database(location.database)
                    self.client.use_database(location.database)
            except BaseException:
                self.close()
                raise

    @contextlib.contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Report a pymilvus failure inside as ``cannot ACTION WHAT URL: reason`` (convapps errors pass)."""
        try:
            yield
        except ConvappsError:
            raise
        except Exception as exc:
            why = reason(exc)
            if "lock" in why.lower():
                raise GalleryLockedError(f"{self.what} {self.url} is locked by another process: {why}") from exc
            raise GalleryError(f"cannot {action} {self.what} {self.url}: {why}") from exc

    def close(self) -> None:
        """Close the client; the last store of a Milvus Lite folder in this process also stops its server."""
        with contextlib.suppress(Exception):
            self.client.close()
        path, self._lite_path = self._lite_path, None
        if path is not None:
            _LITE_USERS[path] -= 1
            if _LITE_USERS[path] == 0:
                del _LITE_USERS[path]
                from milvus_lite.server_manager import server_manager_instance  # type: ignore[import-untyped,unused-ignore]

                server_manager_instance.release_server(path)  # flushes and frees the folder's lock


def _prepare_lite_folder(location: GalleryUrl, what: str) -> str:
    """The Milvus Lite folder of ``location`` (created owner-only when missing), as an absolute path."""
    assert location.path is not None
    if location.path.exists() and not location.path.is_dir():
        raise GalleryUnreadableError(f"{location.path} is not a Milvus Lite {what} (a file, not a folder)")
    location.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        location.path.mkdir(mode=0o700)  # owner-only, like the SQLite file
    return str(location.path.absolute())


def _check_lite_lock(folder: Path, what: str, url: str) -> None:
    """GalleryLockedError if another process has this Milvus Lite folder open (it allows one process)."""
    import fcntl

    lock = folder / "LOCK"
    if not lock.exists():
        return
    try:
        with lock.open("rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when fh closes
    except BlockingIOError as exc:
        raise GalleryLockedError(
            f"{what} {url} is open in another process (Milvus Lite allows one process per file); "
            "close it or use a Milvus server"
        ) from exc
    except OSError as exc:
        raise GalleryUnreadableError(f"cannot read {what} {url}: {exc.strerror}") from exc
