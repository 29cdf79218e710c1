"""API keys: created and revoked from the CLI, stored hashed in a small SQLite file.

A key looks like ``cvk_<id>_<secret>``: ``id`` (12 hex digits) names the key in lists and in the audit
log, ``secret`` carries 256 random bits. Only the SHA-256 of the whole key is stored; a random 256-bit
secret needs no salt or slow hash, since there is no dictionary to try. The plaintext is shown once, at
creation. Every request looks its key up again, so ``convapps serve keys revoke`` takes effect at once,
even while the service runs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from convapps.errors import InvalidInputError, NotFoundError

PREFIX = "cvk"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created TEXT NOT NULL,
    revoked TEXT
)
"""


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    id: str
    name: str
    created: str
    revoked: str | None

    @property
    def active(self) -> bool:
        return self.revoked is None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """The hashed API keys in ``path`` (a SQLite file created readable by its owner only)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        conn = sqlite3.connect(self.path, timeout=10.0)
        if fresh:
            self.path.chmod(0o600)
        conn.execute(_SCHEMA)
        return conn

    def create(self, name: str) -> tuple[ApiKey, str]:
        """Store a new key named ``name``; returns it and its plaintext (shown once, never stored)."""
        clean = name.strip()
        if not clean or len(clean) > 64 or not clean.isprintable():
            raise InvalidInputError("a key name must be 1 to 64 printable characters")
        key_id = secrets.token_hex(6)
        plaintext = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(id=key_id, name=clean, created=_now(), revoked=None)
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO api_keys (id, name, sha256, created) VALUES (?, ?, ?, ?)",
                (record.id, record.name, _digest(plaintext), record.created),
            )
        conn.close()
        return record, plaintext

    def list(self) -> list[ApiKey]:
        """All keys, oldest first, revoked ones included."""
        if not self.path.exists():
            return []
        conn = self._connect()
        try:
            rows = conn.execute("SELECT id, name, created, revoked FROM api_keys ORDER BY created, id").fetchall()
        finally:
            conn.close()
        return [ApiKey(*row) for row in rows]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke the key with this id (or unique id prefix of at least 4 characters, or exact name)."""
        target = self._find(key_id)
        if target.revoked is None:
            with self._connect() as conn:
                conn.execute("UPDATE api_keys SET revoked = ? WHERE id = ?", (_now(), target.id))
            conn.close()
        return next(k for k in self.list() if k.id == target.id)

    def _find(self, ref: str) -> ApiKey:
        keys = self.list()
        exact = [k for k in keys if k.id == ref or k.name == ref]
        if len(exact) == 1:
            return exact[0]
        matches = [k for k in keys if len(ref) >= 4 and k.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(exact) + len(matches) > 1:
            raise InvalidInputError(f"{ref!r} matches several keys; give the full id (see `convapps serve keys list`)")
        raise NotFoundError(f"no API key {ref!r}; see `convapps serve keys list`")

    def verify(self, plaintext: str) -> ApiKey | None:
        """The active key matching ``plaintext``, or None (unknown, malformed or revoked)."""
        parts = plaintext.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX or not self.path.exists():
            return None
        conn = self._connect()
        try:
            row = conn.execute(
                "SELECT id, name, created, revoked, sha256 FROM api_keys WHERE id = ?", (parts[1],)
            ).fetchone()
        finally:
            conn.close()
        if row is None or not hmac.compare_digest(row[4], _digest(plaintext)):
            return None
        key = ApiKey(*row[:4])
        return key if key.active else None
