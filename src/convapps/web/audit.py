"""Audit log of the calls that touch biometric data, and of wrong API keys: who, when, what; never an
image, an encoding or a key's secret.

One JSON object per line in ``state_dir/audit.jsonl`` (created readable by its owner only), e.g.::

    {"time": "2026-11-29T06:00:00+00:00", "action": "enroll", "outcome": "ok", "key_id": "3f2a9c01b2d4",
     "key_name": "desk", "client": "127.0.0.1", "details": {"identity_id": "...", "name": "Ada"}}
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

AuditAction = Literal[
    "enroll", "rename", "remove", "verify", "identify", "authenticate", "archive-name", "archive-merge"
]
Outcome = Literal["ok", "refused", "failed"]

DetailValue = str | int | float | bool | None | list[str]


class AuditLog:
    """Appends audit records to a JSON-lines file; safe to call from many threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(
        self,
        action: AuditAction,
        *,
        outcome: Outcome,
        key_id: str,
        key_name: str,
        client: str | None,
        details: dict[str, DetailValue] | None = None,
    ) -> None:
        """Append one record. ``details`` holds names, ids, counts and distances, never pixels."""
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "action": action,
            "outcome": outcome,
            "key_id": key_id,
            "key_name": key_name,
            "client": client,
            "details": details or {},
        }
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not self.path.exists()
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
            if fresh:
                self.path.chmod(0o600)

    def tail(self, n: int = 50) -> list[dict[str, object]]:
        """The last ``n`` records, oldest first (for tests and the ``keys`` CLI)."""
        if not self.path.exists():
            return []
        with self._lock:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines[-n:] if line.strip()]
