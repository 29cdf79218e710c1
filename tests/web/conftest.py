"""Fixtures of the service tests: a fresh state folder, an API key, and an app served by TestClient."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from convapps.web.app import create_app
from convapps.web.keys import KeyStore
from convapps.web.settings import WebSettings

BASE_URL = "http://127.0.0.1"


@pytest.fixture
def settings(tmp_path: Path) -> WebSettings:
    return WebSettings(state_dir=tmp_path / "state")


@pytest.fixture
def api_key(settings: WebSettings) -> str:
    _, plaintext = KeyStore(settings.keys_path).create("tests")
    return plaintext


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def make_client() -> Iterator[Callable[[WebSettings], TestClient]]:
    """Build a started TestClient for given settings; all are closed (lifespan shutdown) at the end."""
    clients: list[TestClient] = []

    def build(settings: WebSettings) -> TestClient:
        client = TestClient(create_app(settings), base_url=BASE_URL, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[[WebSettings], TestClient], settings: WebSettings) -> TestClient:
    return make_client(settings)


def png_bytes(width: int = 32, height: int = 24, seed: int = 0) -> bytes:
    """A small random RGB PNG."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
