"""``convapps serve`` and ``convapps serve keys``: key management, help, and a real start on loopback."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from convapps.cli.main import main
from convapps.web.keys import KeyStore


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_help_explains_the_service_and_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "serve", "--help")
    assert code == 0 and "Usage: convapps serve" in out
    for word in ("--host", "--port", "--gallery", "--first-run", "keys", "127.0.0.1"):
        assert word in out
    code, out, _ = run(capsys, "serve", "keys", "--help")
    assert code == 0 and all(cmd in out for cmd in ("create", "list", "revoke"))


def test_keys_create_list_revoke(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    code, out, err = run(capsys, "serve", "keys", "list", "--state-dir", state)
    assert code == 0 and "no API keys" in out
    code, out, err = run(capsys, "serve", "keys", "create", "laptop", "--state-dir", state)
    assert code == 0
    plaintext = out.strip()
    assert re.fullmatch(r"cvk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", plaintext) and "shown only now" in err
    key = KeyStore(tmp_path / "state" / "keys.sqlite").verify(plaintext)
    assert key is not None and key.name == "laptop"
    code, out, _ = run(capsys, "serve", "keys", "list", "--state-dir", state)
    assert code == 0 and key.id in out and "laptop" in out and "active" in out and plaintext not in out
    code, out, _ = run(capsys, "serve", "keys", "revoke", key.id, "--state-dir", state)
    assert code == 0 and f"revoked key {key.id}" in out
    assert KeyStore(tmp_path / "state" / "keys.sqlite").verify(plaintext) is None
    code, out, _ = run(capsys, "serve", "keys", "list", "--state-dir", state)
    assert "revoked 20" in out
    code, _, err = run(capsys, "serve", "keys", "revoke", "nope", "--state-dir", state)
    assert code == 1 and "no API key 'nope'" in err
    code, out, _ = run(capsys, "serve", "--state-dir", state, "keys", "list")  # the group's option works too
    assert code == 0 and key.id in out


def test_port_in_use_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run(capsys, "serve", "--port", str(port), "--state-dir", str(tmp_path))
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err


def test_first_run_starts_the_service_and_prints_url_and_key(tmp_path: Path) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "convapps.cli.main",
        "serve",
        "--port",
        str(port),
        "--first-run",
        "--state-dir",
        str(tmp_path / "state"),
        "--gallery",
        f"sqlite:///{tmp_path / 'g.db'}",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("#key=" in line for line in lines):
            line = proc.stdout.readline() if proc.stdout else ""
            if not line and proc.poll() is not None:
                break
            lines.append(line)
        text = "".join(lines)
        assert f"convapps service: http://127.0.0.1:{port}/" in text, text
        key = re.search(r"^\s+(cvk_\S+)\s*$", text, re.MULTILINE)
        assert key is not None, text
        url = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        health = httpx.get(f"{url}/api/health").json()
        assert health["features"] == {"faces": True, "style": True, "viz": True}
        who = httpx.get(f"{url}/api/session", headers={"Authorization": f"Bearer {key.group(1)}"})
        assert who.status_code == 200 and who.json()["key_name"] == "first-run"
        assert httpx.get(f"{url}/api/people").status_code == 401
        assert "convapps" in httpx.get(f"{url}/").text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode in (0, -15)
    assert [k.name for k in KeyStore(tmp_path / "state" / "keys.sqlite").list()] == ["first-run"]


def test_first_run_creates_a_key_only_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from convapps.cli.serve import _announce
    from convapps.web.settings import WebSettings

    settings = WebSettings(state_dir=tmp_path / "state", port=8123)
    _announce(settings, True)
    first = capsys.readouterr().out
    assert "http://127.0.0.1:8123/" in first and "first API key" in first and "#key=cvk_" in first
    _announce(settings, True)
    second = capsys.readouterr().out
    assert "cvk_" not in second and "keys create" in second
    assert len(KeyStore(settings.keys_path).list()) == 1
