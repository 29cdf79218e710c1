"""Transport hardening: decode budgets, keys checked before bodies, no server paths in errors, quotas,
backoff on wrong keys, Retry-After on every 429/503, and HEAD wherever GET works."""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import File, UploadFile
from fastapi.testclient import TestClient

from convapps.errors import ConvappsError, NotFoundError
from convapps.web.auth import KeyDep
from convapps.web.jobs import JobResult, Progress
from convapps.web.keys import KeyStore
from convapps.web.settings import WebSettings
from convapps.web.state import ServicesDep
from convapps.web.uploads import decode_gate, read_image

from .conftest import png_bytes


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def blank_png(width: int, height: int, bit_depth: int, color_type: int, channels: int) -> bytes:
    """An all-zero PNG of any size and bit depth, a few KB per megapixel."""
    packer = zlib.compressobj(9)
    row = b"\x00" + bytes(width * channels * bit_depth // 8)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def add_decode_route(client: TestClient) -> None:
    """``POST /api/test-decode``: decode one upload the way every image route does."""

    def decode(services: ServicesDep, key: KeyDep, photo: Annotated[UploadFile, File()]) -> dict[str, list[int]]:
        rgb = read_image(photo, services.settings, max_side=services.settings.max_side)
        return {"shape": list(rgb.shape)}

    client.app.add_api_route("/api/test-decode", decode, methods=["POST"])  # type: ignore[attr-defined]


# 1. Decompression cost


def test_16bit_5000px_png_is_refused_from_its_header(client: TestClient, auth: dict[str, str]) -> None:
    add_decode_route(client)
    bomb = blank_png(5000, 5000, 16, 2, 3)  # 25 MP (within max_pixels) but 150 MB decoded
    assert len(bomb) < 200_000
    response = client.post("/api/test-decode", headers=auth, files={"photo": ("big.png", bomb)})
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["type"] == "ImageTooLargeError"
    assert "5000x5000 with 3 channel(s) of 16 bits needs 150 MB" in error["message"]
    small = client.post("/api/test-decode", headers=auth, files={"photo": ("ok.png", blank_png(300, 200, 16, 2, 3))})
    assert small.status_code == 200 and small.json() == {"shape": [200, 300, 3]}


def test_concurrent_decodes_are_capped_with_503_and_retry_after(
    make_client: Callable[[WebSettings], TestClient], settings: WebSettings, auth: dict[str, str]
) -> None:
    tight = replace(settings, max_decodes=1, decode_wait_s=0.1)
    client = make_client(tight)
    add_decode_route(client)
    gate = decode_gate(tight)
    photo = {"photo": ("p.png", png_bytes(40, 30))}
    assert gate.acquire(timeout=5)  # another request is decoding
    try:
        busy = client.post("/api/test-decode", headers=auth, files=photo)
    finally:
        gate.release()
    assert busy.status_code == 503 and busy.json()["error"]["type"] == "ServiceBusyError"
    assert int(busy.headers["retry-after"]) >= 1
    again = client.post("/api/test-decode", headers=auth, files=photo)
    assert again.status_code == 200 and again.json() == {"shape": [30, 40, 3]}


# 2. The key (and the Host) before any body


def counting_body(total: int, chunk: int, consumed: list[int]) -> Iterator[bytes]:
    for _ in range(total // chunk):
        consumed.append(chunk)
        yield b"x" * chunk


def test_requests_without_a_valid_key_get_401_before_their_body_is_read(client: TestClient) -> None:
    fields = {f"f{i}": "v" for i in range(1001)}
    many = client.post("/api/style/jobs", data=fields)
    assert many.status_code == 401 and many.json()["error"]["type"] == "AuthenticationError"
    for headers in ({}, {"X-API-Key": "cvk_000000000000_wrong"}):
        consumed: list[int] = []
        body = counting_body(27 * 1024 * 1024, 1024 * 1024, consumed)
        big = client.post("/api/people", content=body, headers={**headers, "Content-Type": "multipart/form-data"})
        assert big.status_code == 401, big.text
        assert big.headers["www-authenticate"] == "Bearer" and big.headers["connection"] == "close"
        assert sum(consumed) == 0  # the server never asked for the body
    consumed = []
    foreign = client.post(
        "/api/people", content=counting_body(4096, 1024, consumed), headers={"Host": "attacker.example"}
    )
    assert foreign.status_code == 400 and foreign.json()["error"]["type"] == "InvalidHostError"
    assert sum(consumed) == 0


def test_valid_key_still_reaches_the_handler_with_its_body(client: TestClient, auth: dict[str, str]) -> None:
    add_decode_route(client)
    response = client.post("/api/test-decode", headers=auth, files={"photo": ("p.png", png_bytes(20, 10))})
    assert response.status_code == 200 and response.json() == {"shape": [10, 20, 3]}
    assert client.get("/api/session", headers=auth).json()["key_name"] == "tests"


# 3. No server paths in errors


def test_error_bodies_show_no_server_paths(
    make_client: Callable[[WebSettings], TestClient], settings: WebSettings, auth: dict[str, str]
) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    broken = settings.state_dir / "gallery.db"
    broken.write_bytes(b"this is not a SQLite database, just text that is long enough to look like one" * 20)
    client = make_client(replace(settings, gallery=f"sqlite:///{broken}"))
    state = str(settings.state_dir)

    def missing(services: ServicesDep, key: KeyDep) -> None:
        raise NotFoundError(f"no person named 'Ada' in gallery {services.settings.gallery_url.split(':///')[-1]}")

    def failing_job(services: ServicesDep, key: KeyDep) -> dict[str, str]:
        def work(progress: Progress) -> list[JobResult]:
            raise ConvappsError(f"weights in {state}/models/x.pt do not fit")

        return {"id": services.jobs.submit("test", key.id, work).id}

    client.app.add_api_route("/api/test-missing", missing)  # type: ignore[attr-defined]
    client.app.add_api_route("/api/test-job", failing_job, methods=["POST"])  # type: ignore[attr-defined]
    bodies = [client.get("/api/test-missing", headers=auth), client.get("/api/people", headers=auth)]
    assert [r.status_code for r in bodies] == [404, 503]
    assert bodies[0].json()["error"]["message"] == "no person named 'Ada' in the gallery"
    job_id = client.post("/api/test-job", headers=auth).json()["id"]
    for _ in range(200):
        job = client.get(f"/api/jobs/{job_id}", headers=auth).json()
        if job["state"] == "failed":
            break
        threading.Event().wait(0.01)
    assert job["state"] == "failed" and job["error"] == "weights in a server file do not fit"
    for text in [r.text for r in bodies] + [str(job)]:
        assert state not in text and str(settings.state_dir.parent) not in text, text
        assert "gallery.db" not in text
    assert "retry-after" in bodies[1].headers


# 11. Retry-After, per-key quota, wrong-key backoff and audit, HEAD


def test_one_key_cannot_fill_every_job_slot(
    make_client: Callable[[WebSettings], TestClient], settings: WebSettings, auth: dict[str, str]
) -> None:
    client = make_client(replace(settings, job_queue=4))
    other = {"X-API-Key": KeyStore(settings.keys_path).create("other")[1]}
    release = threading.Event()

    def submit(services: ServicesDep, key: KeyDep) -> dict[str, str]:
        def work(progress: Progress) -> list[JobResult]:
            release.wait(10)
            return []

        return {"id": services.jobs.submit("test", key.id, work).id}

    client.app.add_api_route("/api/test-job", submit, methods=["POST"])  # type: ignore[attr-defined]
    try:
        assert [client.post("/api/test-job", headers=auth).status_code for _ in range(2)] == [200, 200]
        over = client.post("/api/test-job", headers=auth)
        assert over.status_code == 429 and over.json()["error"]["type"] == "TooManyRequestsError"
        assert "its share of the 4 job slots" in over.json()["error"]["message"]
        assert int(over.headers["retry-after"]) >= 1
        assert [client.post("/api/test-job", headers=other).status_code for _ in range(2)] == [200, 200]
        full = client.post("/api/test-job", headers=other)
        assert full.status_code == 503 and int(full.headers["retry-after"]) >= 1
    finally:
        release.set()
    assert replace(settings, job_queue=8).job_key_quota == 4
    assert replace(settings, job_queue=8, job_quota_per_key=6).job_key_quota == 6


def test_wrong_keys_are_audited_and_slowed_down(
    make_client: Callable[[WebSettings], TestClient], settings: WebSettings, api_key: str
) -> None:
    client = make_client(replace(settings, auth_failures=3, auth_backoff_s=30.0))
    stale = {"X-API-Key": "cvk_0123456789ab_stale"}
    assert [client.get("/api/session", headers=stale).status_code for _ in range(5)] == [401] * 5  # one stale key
    assert client.get("/api/session", headers={"X-API-Key": api_key}).status_code == 200
    guesses = [f"cvk_{i:012x}_guess{i}" for i in range(3)]
    assert [client.get("/api/session", headers={"X-API-Key": g}).status_code for g in guesses] == [401] * 3
    blocked = client.get("/api/session", headers={"X-API-Key": api_key})
    assert blocked.status_code == 429 and blocked.json()["error"]["type"] == "TooManyRequestsError"
    assert 1 <= int(blocked.headers["retry-after"]) <= 30
    assert client.get("/api/health").status_code == 200  # health stays public
    audit = client.app.state.services.audit.tail(50)  # type: ignore[attr-defined]
    refused = [r for r in audit if r["action"] == "authenticate"]
    assert len(refused) == 5 + 3 and all(r["outcome"] == "refused" and r["client"] == "testclient" for r in refused)
    assert [r["key_id"] for r in refused[-3:]] == [f"{i:012x}" for i in range(3)]
    assert refused[-1]["details"]["blocked_s"] == 30.0
    assert "guess" not in settings.audit_path.read_text() and "stale" not in settings.audit_path.read_text()


def test_head_works_wherever_get_does(client: TestClient, auth: dict[str, str]) -> None:
    for path, headers in (("/", {}), ("/static/app.css", {}), ("/api/health", {}), ("/api/session", auth)):
        got, head = client.get(path, headers=headers), client.head(path, headers=headers)
        assert head.status_code == 200 == got.status_code, (path, head.text)
        assert head.content == b"" and head.headers["content-length"] == str(len(got.content))
        assert head.headers["content-type"] == got.headers["content-type"]
    assert client.head("/api/session").status_code == 401
    assert client.head("/static/missing.css").status_code == 404


def test_every_503_carries_retry_after(client: TestClient, auth: dict[str, str]) -> None:
    def unavailable() -> None:
        from convapps.errors import ModelNotAvailableError

        raise ModelNotAvailableError("models are not installed")

    client.app.add_api_route("/api/test-unavailable", unavailable)  # type: ignore[attr-defined]
    response = client.get("/api/test-unavailable", headers=auth)
    assert response.status_code == 503 and int(response.headers["retry-after"]) >= 1
    assert np.isfinite(float(response.headers["retry-after"]))


def test_public_health_names_no_server_path(make_client, tmp_path: Path) -> None:
    broken = tmp_path / "private-folder" / "not-a-gallery.db"
    broken.parent.mkdir()
    broken.write_bytes(b"this is not a database")
    client = make_client(WebSettings(state_dir=tmp_path / "state", gallery=f"sqlite:///{broken}"))
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    assert health.json()["problems"] and str(tmp_path) not in health.text and "private-folder" not in health.text
