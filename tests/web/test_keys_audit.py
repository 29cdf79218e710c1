"""API keys are stored hashed and checked on every request; the audit log never holds image data."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from convapps.errors import InvalidInputError, NotFoundError
from convapps.web.audit import AuditLog
from convapps.web.keys import KeyStore


def test_key_is_stored_hashed_and_verifies(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.sqlite")
    key, plaintext = store.create("desk")
    assert plaintext.startswith(f"cvk_{key.id}_") and len(plaintext) > 50
    raw = (tmp_path / "keys.sqlite").read_bytes()
    assert plaintext.encode() not in raw and plaintext.split("_", 2)[2].encode() not in raw
    assert stat.S_IMODE((tmp_path / "keys.sqlite").stat().st_mode) == 0o600
    found = store.verify(plaintext)
    assert found is not None and found.id == key.id and found.name == "desk"


def test_wrong_malformed_and_revoked_keys_fail(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.sqlite")
    key, plaintext = store.create("desk")
    assert store.verify(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    assert store.verify("not-a-key") is None
    assert store.verify(f"cvk_{key.id}") is None
    revoked = store.revoke(key.id[:6])
    assert revoked.revoked is not None and not revoked.active
    assert store.verify(plaintext) is None
    assert [k.active for k in store.list()] == [False]


def test_revoke_refuses_unknown_and_ambiguous(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.sqlite")
    with pytest.raises(NotFoundError, match="no API key"):
        store.revoke("nothing")
    store.create("same")
    store.create("same")
    with pytest.raises(InvalidInputError, match="several keys"):
        store.revoke("same")
    with pytest.raises(InvalidInputError, match="1 to 64"):
        store.create("  ")


def test_audit_records_are_json_lines_owner_only(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record(
        "enroll",
        outcome="ok",
        key_id="k1",
        key_name="desk",
        client="127.0.0.1",
        details={"name": "Ada", "identity_id": 3},
    )
    log.record("identify", outcome="refused", key_id="k1", key_name="desk", client=None, details={"faces": 0})
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["action"] == "enroll" and first["details"] == {"name": "Ada", "identity_id": 3}
    assert first["key_id"] == "k1" and first["time"].endswith("+00:00")
    assert stat.S_IMODE((tmp_path / "audit.jsonl").stat().st_mode) == 0o600
    assert [r["outcome"] for r in log.tail()] == ["ok", "refused"]
