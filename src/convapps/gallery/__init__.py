"""Identity galleries: the lecture's "database of K persons", storing encodings, not images.

    >>> from convapps.gallery import open_gallery
    >>> with open_gallery("people.db", space=encoder.space) as gallery:       # doctest: +SKIP
    ...     gallery.enroll("alice", alice_encoding)
    ...     [[best]] = gallery.search(probe_encoding)                         # nearest identity
    ...     best.identity.name, best.distance                                  # squared L2

Backends share one interface (:class:`Gallery`) and one URL form (see :mod:`convapps.gallery.url`):
SQLite (default, embedded) and Milvus (Milvus Lite file, or a server).

A photo archive's face index (:class:`~convapps.gallery.archive_base.ArchiveIndex`: unnamed faces by the
million, grouped into people) opens from the same URL form with :func:`open_archive_index`: SQLite
(default) or Milvus (a server or cluster for large archives, or a Milvus Lite file).
"""

from __future__ import annotations

from pathlib import Path

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import GalleryUnreadableError, InvalidInputError
from convapps.gallery.ann import HnswParams, IvfParams
from convapps.gallery.archive_base import ArchiveIndex
from convapps.gallery.base import Gallery, Identity, Match, Metadata, SearchMode
from convapps.gallery.url import GalleryUrl, default_gallery_path, parse_gallery_url

__all__ = [
    "EmbeddingSpace",
    "Gallery",
    "GalleryUrl",
    "HnswParams",
    "Identity",
    "IvfParams",
    "Match",
    "Metadata",
    "SearchMode",
    "default_gallery_path",
    "open_archive_index",
    "open_gallery",
    "parse_gallery_url",
]


def open_gallery(
    url: str | Path | None = None,
    *,
    space: EmbeddingSpace | None = None,
    mode: SearchMode = "exact",
    lock_timeout_s: float = 5.0,
    connect_timeout_s: float = 10.0,
    create: bool = True,
    ann: HnswParams | IvfParams | None = None,
) -> Gallery:
    """Open (creating if needed) the gallery at ``url``.

    Args:
        url: a path, ``sqlite:///abs.db``, ``milvus:///abs.db`` (Milvus Lite) or ``milvus://host:port``;
            None means ``$CONVAPPS_GALLERY`` or ``gallery.db`` in the user's data directory.
        space: the encoder's embedding space (model id, dim, metric). Required to enroll or search; a
            gallery holding another space's encodings refuses it (EmbeddingSpaceMismatchError).
        mode: "exact" search (default) or "ann" (HNSW: usearch for SQLite, Milvus' index for Milvus).
        lock_timeout_s: SQLite only: how long a write waits for another writer before GalleryLockedError.
        connect_timeout_s: Milvus only: how long to wait for the server.
        ann: the approximate index for ``mode="ann"``: HnswParams (default) or IvfParams.
        create: create the local file (SQLite, Milvus Lite) if missing; if False, GalleryUnreadableError.
    """
    if mode not in ("exact", "ann"):
        raise InvalidInputError(f"search mode must be 'exact' or 'ann', got {mode!r}")
    location = parse_gallery_url(url)
    if not create and location.path is not None and not location.path.exists():
        raise GalleryUnreadableError(f"there is no gallery at {location}; enroll someone first")
    if location.backend == "sqlite":
        from convapps.gallery.sqlite_store import SqliteGallery

        assert location.path is not None
        gallery: Gallery = SqliteGallery(location.path, space=space, mode=mode, lock_timeout_s=lock_timeout_s, ann=ann)
    else:
        from convapps.gallery.milvus_store import MilvusGallery

        gallery = MilvusGallery(location, space=space, mode=mode, connect_timeout_s=connect_timeout_s, ann=ann)
    if space is not None:
        try:
            gallery._check_space()  # refuse a gallery of another model at once
        except BaseException:
            gallery.close()
            raise
    return gallery


def open_archive_index(
    url: str | Path, *, space: EmbeddingSpace, create: bool = True, connect_timeout_s: float = 10.0
) -> ArchiveIndex:
    """Open (creating if needed) the archive face index at ``url`` for encodings of ``space``.

    Args:
        url: a path or ``sqlite:///abs.db`` (SQLite file), ``milvus:///abs.db`` (Milvus Lite folder) or
            ``milvus://host:19530[/database]`` (a Milvus server or cluster; its collections are named apart
            from a gallery's, so both can live in one database).
        space: the encoder's embedding space; an index of another space raises EmbeddingSpaceMismatchError.
        create: if False, GalleryUnreadableError when there is no archive index at ``url``.
        connect_timeout_s: Milvus only: how long to wait for the server (GalleryUnavailableError).
    """
    location = parse_gallery_url(url)
    if not create and location.path is not None and not location.path.exists():
        raise GalleryUnreadableError(f"there is no archive index at {location}; index a folder first")
    if location.backend == "milvus":
        from convapps.gallery.archive_milvus import MilvusArchiveIndex

        return MilvusArchiveIndex(location, space=space, create=create, connect_timeout_s=connect_timeout_s)
    from convapps.gallery.archive_sqlite import SqliteArchiveIndex

    assert location.path is not None
    return SqliteArchiveIndex(location.path, space=space)
