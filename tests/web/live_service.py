"""A real ``convapps serve --first-run`` on loopback and a headless Chromium, for the end-to-end tests."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path(os.environ.get("CONVAPPS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lfw_photo(shared_data: Path, person: str, n: int) -> Path:
    return shared_data / "faces" / "lfw" / "lfw-deepfunneled" / person / f"{person}_{n:04d}.jpg"


@contextmanager
def live_service(tmp: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """Start the service with its state in ``tmp/state`` and gallery ``tmp/gallery.db`` (and ``env`` added to
    its environment); yields (url, first key)."""
    port = free_port()
    command = [sys.executable, "-m", "convapps.cli.main", "serve", "--port", str(port), "--first-run"]
    command += ["--state-dir", str(tmp / "state"), "--gallery", f"sqlite:///{tmp / 'gallery.db'}"]
    environment = {**os.environ, **(env or {})}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment)
    url, key, deadline = f"http://127.0.0.1:{port}", None, time.monotonic() + 90
    try:
        while key is None and time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line and proc.poll() is not None:
                pytest.fail(f"convapps serve exited with {proc.returncode}")
            found = re.match(r"^\s+(cvk_\S+)\s*$", line)
            key = found.group(1) if found else None
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        assert key is not None
        # keep reading uvicorn's access log: a full pipe would block the service's event loop
        threading.Thread(target=lambda: [None for _ in proc.stdout or ()], daemon=True).start()
        yield url, key
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def playwright_session() -> Iterator[object]:
    """Playwright's sync API (one per thread); skips, saying why, when Chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run scripts/install-browser.sh (apt-get install chromium) first")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the 'playwright' Python package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        yield p


def launch(playwright: object, extra_args: tuple[str, ...] = ()) -> object:
    """A headless Chromium started from a :func:`playwright_session` (close it when done)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args])  # type: ignore[attr-defined]


@contextmanager
def chromium() -> Iterator[object]:
    """A Playwright session and one headless Chromium, closed on exit."""
    with playwright_session() as p:
        browser = launch(p)
        try:
            yield browser
        finally:
            browser.close()  # type: ignore[attr-defined]
