"""Settings of the convapps service: one frozen dataclass with documented defaults.

Everything the service stores (API keys, the audit log, the default gallery) lives under ``state_dir``,
which defaults to ``$CONVAPPS_HOME`` or the platform's user data folder (``~/.local/share/convapps``).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from convapps.errors import InvalidInputError

ARCHIVE_INDEX_ENV = "CONVAPPS_ARCHIVE_INDEX"
"""Environment variable naming the archive index (the same one ``convapps face index`` reads)."""

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
"""Host names accepted in the ``Host`` header when the service binds to loopback (DNS-rebinding guard)."""


def default_state_dir() -> Path:
    """``$CONVAPPS_HOME`` if set, else the platform's user data folder for convapps."""
    home = os.environ.get("CONVAPPS_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("convapps", appauthor=False))


@dataclass(frozen=True)
class WebSettings:
    """How the service runs. Defaults are safe for a single person on one machine.

    Attributes:
        host: address to bind; loopback by default, so nothing outside this machine can connect.
        port: TCP port.
        state_dir: folder for ``keys.sqlite``, ``audit.jsonl`` and the default gallery (created 0700).
        gallery: gallery URL (``sqlite:///path.db``, ``milvus:///path.db``); None: see :attr:`gallery_url`.
        archive_index: the photo archive's face index (a path or ``sqlite:///path.db``, written by
            ``convapps face index``); None: see :attr:`archive_index_url`.
        max_upload_bytes: largest single uploaded file (10 MiB).
        max_request_bytes: largest request body, all files together (40 MiB); checked while streaming.
        max_files: most files in one request (style: content + styles; viz: a batch of images).
        max_pixels: largest image in pixels (25 MP), checked from the header before decoding.
        max_image_bytes: largest decoded image in bytes, width x height x channels x bytes per sample as
            the header declares (100 MB: 25 MP of 8-bit RGBA; a 16-bit RGB image may have 16.7 MP).
        max_decodes: most images decoded at once (each may cost up to ``max_image_bytes`` of memory).
        decode_wait_s: a request waiting longer than this for a free decoder gets 503 with Retry-After.
        max_side: face images are downsized so their longer side is at most this before detection.
        cors_origins: origins allowed to call the API from another page; empty (closed) by default.
        allowed_hosts: accepted ``Host`` headers; None: loopback names when ``host`` is loopback, else any.
        job_workers: threads running style and visualisation jobs (CPU-bound: keep it small).
        job_queue: most jobs waiting or running at once; more are refused with 503.
        job_quota_per_key: most jobs one API key may have waiting or running; more are refused with 429.
            None: half of ``job_queue`` (at least 1).
        job_ttl_s: finished jobs (and their images) are forgotten after this many seconds.
        face_wait_s: a face request waiting longer than this for the (serialised) face models gets 503.
        auth_failures: distinct wrong API keys one client address may try before it is refused with 429.
        auth_backoff_s: how long such a client is refused (and the window in which failures count).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    state_dir: Path = field(default_factory=default_state_dir)
    gallery: str | None = None
    archive_index: str | None = None
    max_upload_bytes: int = 10 * 1024 * 1024
    max_request_bytes: int = 40 * 1024 * 1024
    max_files: int = 16
    max_pixels: int = 25_000_000
    max_image_bytes: int = 100_000_000
    max_decodes: int = 2
    decode_wait_s: float = 2.0
    max_side: int = 1600
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] | None = None
    job_workers: int = 1
    job_queue: int = 8
    job_ttl_s: float = 3600.0
    job_quota_per_key: int | None = None
    face_wait_s: float = 30.0
    auth_failures: int = 10
    auth_backoff_s: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise InvalidInputError(f"port must be in 1..65535, got {self.port}")
        for name in (
            "max_upload_bytes",
            "max_request_bytes",
            "max_files",
            "max_pixels",
            "max_side",
            "job_workers",
            "job_queue",
            "max_image_bytes",
            "max_decodes",
            "auth_failures",
        ):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.job_quota_per_key is not None and self.job_quota_per_key < 1:
            raise InvalidInputError(f"job_quota_per_key must be >= 1, got {self.job_quota_per_key}")
        if "*" in self.cors_origins:
            raise InvalidInputError("CORS origin '*' is refused: list the exact origins that may call the API")

    @property
    def job_key_quota(self) -> int:
        """Jobs one key may have waiting or running: ``job_quota_per_key``, else half the queue."""
        return self.job_quota_per_key if self.job_quota_per_key is not None else max(1, self.job_queue // 2)

    @property
    def keys_path(self) -> Path:
        """SQLite file of the hashed API keys."""
        return self.state_dir / "keys.sqlite"

    @property
    def audit_path(self) -> Path:
        """JSON-lines audit log of enroll, rename, remove, verify and identify calls."""
        return self.state_dir / "audit.jsonl"

    @property
    def gallery_url(self) -> str:
        """The gallery in use: ``gallery``, else ``$CONVAPPS_GALLERY``, else ``state_dir/gallery.db`` (with the
        default ``state_dir`` that is the same file the ``convapps face`` commands use)."""
        return self.gallery or os.environ.get("CONVAPPS_GALLERY") or f"sqlite:///{self.state_dir / 'gallery.db'}"

    @property
    def archive_index_url(self) -> str:
        """The archive index the Archive page shows: ``archive_index``, else ``$CONVAPPS_ARCHIVE_INDEX``, else
        ``state_dir/archive.db`` (with the default ``state_dir`` that is the file ``convapps face index``
        writes when given no ``--index``). It may not exist yet; the page then says how to create it."""
        return (
            self.archive_index
            or os.environ.get(ARCHIVE_INDEX_ENV)
            or f"sqlite:///{self.state_dir.expanduser().absolute() / 'archive.db'}"
        )

    @property
    def host_names(self) -> tuple[str, ...]:
        """Accepted ``Host`` header names (``("*",)`` means any)."""
        if self.allowed_hosts is not None:
            return self.allowed_hosts
        return LOOPBACK_HOSTS if self.host in LOOPBACK_HOSTS else ("*",)

    @property
    def url(self) -> str:
        """The address a browser on this machine opens."""
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        shown = f"[{shown}]" if ":" in shown else shown
        return f"http://{shown}:{self.port}/"


def ensure_state_dir(path: Path) -> Path:
    """Create ``path`` readable only by its owner (it holds key hashes, names and face encodings)."""
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # e.g. a folder owned by someone else: keep going
        path.chmod(0o700)
    return path
