"""The one ``--gallery`` URL form used by the CLI, the service and Python.

    /some/path.db  or  relative.db      SQLite file (the embedded default)
    sqlite:///abs/path.db               SQLite file
    milvus:///abs/path.db               Milvus Lite on a local file (embedded, no server)
    milvus://host:19530                 a Milvus server or cluster (http; milvus+https://host:443 for TLS)
    milvus://host:19530/people          the same, in its database ``people`` (created when missing;
                                        without one: the server's ``default`` database)

With no ``--gallery`` the SQLite file ``gallery.db`` in the user's data directory is used
(``$CONVAPPS_GALLERY`` overrides it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from convapps.errors import InvalidInputError

ENV_VAR = "CONVAPPS_GALLERY"
DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
"""A Milvus database name: a letter or underscore, then letters, digits, underscores (255 at most)."""


@dataclass(frozen=True)
class GalleryUrl:
    """A parsed gallery location.

    Attributes:
        backend: "sqlite" or "milvus".
        path: the local file (SQLite, Milvus Lite), else None.
        server_uri: ``http(s)://host:port`` of a Milvus server, else None.
        database: the Milvus server's database, None for its default one.
    """

    backend: Literal["sqlite", "milvus"]
    path: Path | None = None
    server_uri: str | None = None
    database: str | None = None

    def __str__(self) -> str:
        if self.server_uri is not None:
            return self.server_uri if self.database is None else f"{self.server_uri}/{self.database}"
        return f"{self.backend}://{self.path}" if self.backend == "milvus" else str(self.path)


def default_gallery_path() -> Path:
    """``gallery.db`` in the user's data directory (e.g. ~/.local/share/convapps/gallery.db)."""
    from platformdirs import user_data_path

    return user_data_path("convapps", appauthor=False) / "gallery.db"


def parse_gallery_url(url: str | Path | None) -> GalleryUrl:
    """Parse a ``--gallery`` value (None: ``$CONVAPPS_GALLERY`` or the default path)."""
    if url is None:
        url = os.environ.get(ENV_VAR) or default_gallery_path()
    if isinstance(url, Path):
        return GalleryUrl("sqlite", path=url.expanduser().absolute())
    text = str(url).strip()
    if not text:
        raise InvalidInputError("the gallery location is empty")
    if "://" not in text:
        return GalleryUrl("sqlite", path=Path(text).expanduser().absolute())
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        if parts.netloc or not parts.path:
            raise InvalidInputError(f"bad gallery URL {text!r}: write sqlite:///absolute/path.db")
        return GalleryUrl("sqlite", path=Path(parts.path))
    if scheme in ("milvus", "milvus+http", "milvus+https"):
        if parts.netloc:
            database = parts.path.strip("/") or None
            if database is not None and not DATABASE_NAME.fullmatch(database):
                raise InvalidInputError(
                    f"bad gallery URL {text!r}: write milvus://host:19530 or milvus://host:19530/database "
                    "(a database name is letters, digits and underscores)"
                )
            transport = "https" if scheme == "milvus+https" else "http"
            port = parts.port or 19530
            return GalleryUrl("milvus", server_uri=f"{transport}://{parts.hostname}:{port}", database=database)
        if not parts.path.endswith(".db"):
            raise InvalidInputError(f"bad gallery URL {text!r}: a Milvus Lite file must end in .db")
        return GalleryUrl("milvus", path=Path(parts.path))
    raise InvalidInputError(
        f"unknown gallery URL scheme {parts.scheme!r} in {text!r}: use a path, sqlite:///path.db, "
        "milvus:///path.db or milvus://host:19530"
    )
