"""The face desk through HTTP: enroll, list, rename, remove, identify, verify, threshold, audit, limits."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from convapps.web.app import create_app
from convapps.web.keys import KeyStore
from convapps.web.settings import WebSettings

pytestmark = pytest.mark.shared_data
BASE_URL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def lfw(shared_data: Path) -> Path:
    return shared_data / "faces" / "lfw" / "lfw-deepfunneled"


def photo(lfw: Path, person: str, n: int = 1) -> bytes:
    return (lfw / person / f"{person}_{n:04d}.jpg").read_bytes()


@pytest.fixture(scope="module")
def desk_settings(tmp_path_factory: pytest.TempPathFactory) -> WebSettings:
    state = tmp_path_factory.mktemp("faces-state")
    return WebSettings(state_dir=state, gallery=f"sqlite:///{state / 'gallery.db'}")


@pytest.fixture(scope="module")
def headers(desk_settings: WebSettings) -> dict[str, str]:
    return {"X-API-Key": KeyStore(desk_settings.keys_path).create("faces-tests")[1]}


@pytest.fixture(scope="module")
def desk(desk_settings: WebSettings) -> Iterator[TestClient]:
    with TestClient(create_app(desk_settings), base_url=BASE_URL, raise_server_exceptions=False) as client:
        yield client


def names(desk: TestClient, headers: dict[str, str]) -> list[str]:
    response = desk.get("/api/people", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["people"])
    return sorted(p["name"] for p in body["people"])


def enroll(desk: TestClient, headers: dict[str, str], name: str, data: bytes) -> dict[str, object]:
    response = desk.post("/api/people", headers=headers, data={"name": name}, files={"photo": ("p.jpg", data)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_enroll_identify_verify_rename_remove(
    desk: TestClient, headers: dict[str, str], lfw: Path, desk_settings: WebSettings
) -> None:
    ada = enroll(desk, headers, "Colin Powell", photo(lfw, "Colin_Powell", 1))
    assert ada["name"] == "Colin Powell" and ada["n_encodings"] == 1
    assert "Colin Powell" in names(desk, headers)

    same = desk.post("/api/faces/identify", headers=headers, files={"photo": ("q.jpg", photo(lfw, "Colin_Powell", 2))})
    assert same.status_code == 200
    body = same.json()
    assert body["image"] == {"width": 250, "height": 250} and len(body["faces"]) == 1
    face = body["faces"][0]
    assert face["recognized"] and face["name"] == "Colin Powell" and face["identity_id"] == ada["id"]
    assert 0 <= face["distance"] <= body["threshold"]
    box = face["box"]
    assert 0 <= box["left"] < box["right"] < 250 and 0 <= box["top"] < box["bottom"] < 250

    stranger = desk.post("/api/faces/identify", headers=headers, files={"photo": ("s.jpg", photo(lfw, "Laura_Bush"))})
    face = stranger.json()["faces"][0]
    assert not face["recognized"] and face["name"] is None and face["distance"] > stranger.json()["threshold"]

    claim = desk.post(
        "/api/faces/verify",
        headers=headers,
        data={"name": "Colin Powell"},
        files={"photo": ("c.jpg", photo(lfw, "Colin_Powell", 3))},
    )
    assert claim.status_code == 200 and claim.json()["match"] and claim.json()["name"] == "Colin Powell"
    pair = desk.post(
        "/api/faces/verify",
        headers=headers,
        files={"photo": ("a.jpg", photo(lfw, "Colin_Powell", 3)), "photo2": ("b.jpg", photo(lfw, "Laura_Bush"))},
    )
    assert pair.status_code == 200 and not pair.json()["match"] and pair.json()["distance"] > pair.json()["threshold"]

    renamed = desk.patch(f"/api/people/{ada['id']}", headers=headers, json={"name": "General Powell"})
    assert renamed.status_code == 200 and renamed.json() == {**ada, "name": "General Powell"}
    removed = desk.delete(f"/api/people/{ada['id']}", headers=headers)
    assert removed.status_code == 200 and removed.json()["name"] == "General Powell"
    assert "General Powell" not in names(desk, headers)
    assert desk.delete(f"/api/people/{ada['id']}", headers=headers).status_code == 404

    log = [json.loads(line) for line in desk_settings.audit_path.read_text().splitlines()]
    actions = [(r["action"], r["outcome"]) for r in log]
    for expected in [
        ("enroll", "ok"),
        ("identify", "ok"),
        ("verify", "ok"),
        ("rename", "ok"),
        ("remove", "ok"),
        ("remove", "refused"),
    ]:
        assert expected in actions
    assert all(r["key_name"] == "faces-tests" and r["time"] for r in log)
    for record in log:  # who, when, what: names, ids, counts; never image data
        assert set(record) == {"time", "action", "outcome", "key_id", "key_name", "client", "details"}
        assert len(json.dumps(record)) < 400


def test_failure_paths(desk: TestClient, headers: dict[str, str], lfw: Path) -> None:
    enroll(desk, headers, "Tony Blair", photo(lfw, "Tony_Blair"))
    before = names(desk, headers)
    duplicate = desk.post(
        "/api/people",
        headers=headers,
        data={"name": "Tony Blair"},
        files={"photo": ("p.jpg", photo(lfw, "Tony_Blair", 2))},
    )
    assert duplicate.status_code == 409 and duplicate.json()["error"]["type"] == "ConflictError"
    blank = desk.post(
        "/api/people", headers=headers, data={"name": "  "}, files={"photo": ("p.jpg", photo(lfw, "Tony_Blair"))}
    )
    assert blank.status_code == 422
    text = desk.post(
        "/api/people",
        headers=headers,
        data={"name": "Texty"},
        files={"photo": ("face.jpg", b"GIF89a? not really an image", "image/jpeg")},
    )
    assert text.status_code == 415 and text.json()["error"]["type"] == "NotAnImageError"
    assert "face.jpg" in text.json()["error"]["message"] and "/" not in text.json()["error"]["message"]
    noface = desk.post("/api/faces/identify", headers=headers, files={"photo": ("n.png", flat_png())})
    assert noface.status_code == 422 and noface.json()["error"]["type"] == "NoFaceError"
    missing = desk.post("/api/people", headers=headers, data={"name": "No Photo"})
    assert missing.status_code == 422 and missing.json()["error"]["type"] == "ValidationError"
    both = desk.post(
        "/api/faces/verify",
        headers=headers,
        data={"name": "Tony Blair"},
        files={"photo": ("a.jpg", photo(lfw, "Tony_Blair")), "photo2": ("b.jpg", photo(lfw, "Tony_Blair", 2))},
    )
    assert both.status_code == 422
    unknown = desk.post(
        "/api/faces/verify",
        headers=headers,
        data={"name": "Nobody"},
        files={"photo": ("a.jpg", photo(lfw, "Tony_Blair"))},
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "NotFoundError"
    assert desk.patch("/api/people/999999", headers=headers, json={"name": "X"}).status_code == 404
    enroll(desk, headers, "George W Bush", photo(lfw, "George_W_Bush"))
    bush = next(p for p in desk.get("/api/people", headers=headers).json()["people"] if p["name"] == "George W Bush")
    clash = desk.patch(f"/api/people/{bush['id']}", headers=headers, json={"name": "Tony Blair"})
    assert clash.status_code == 409
    assert names(desk, headers) == sorted([*before, "George W Bush"])


def flat_png(width: int = 64, height: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 200, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_limits(desk_settings: WebSettings, headers: dict[str, str], lfw: Path) -> None:
    small = replace(desk_settings, max_upload_bytes=4000, max_pixels=40_000, max_request_bytes=200_000)
    with TestClient(create_app(small), base_url=BASE_URL) as client:
        big_file = client.post(
            "/api/faces/identify", headers=headers, files={"photo": ("big.jpg", photo(lfw, "Tony_Blair"))}
        )
        assert big_file.status_code == 413 and big_file.json()["error"]["type"] == "UploadTooLargeError"
        many_pixels = client.post(
            "/api/faces/identify", headers=headers, files={"photo": ("wide.png", flat_png(400, 200))}
        )
        assert many_pixels.status_code == 413 and many_pixels.json()["error"]["type"] == "ImageTooLargeError"
        body = client.post("/api/faces/identify", headers=headers, files={"photo": ("huge.bin", b"\0" * 300_000)})
        assert body.status_code == 413 and "request body" in body.json()["error"]["message"]

        def chunks() -> Iterator[bytes]:
            for _ in range(100):
                yield b"x" * 4096

        multipart = {**headers, "Content-Type": "multipart/form-data; boundary=b"}
        streamed = client.post("/api/faces/identify", headers=multipart, content=chunks())
        assert streamed.status_code == 413


def test_threshold_info(desk: TestClient, headers: dict[str, str]) -> None:
    info = desk.get("/api/faces/threshold", headers=headers).json()
    assert info["metric"] == "squared_l2" and info["model_id"] == "dlib_face_recognition_resnet_model_v1"
    assert info["threshold_l2"] == pytest.approx(info["threshold"] ** 0.5)
    health = desk.get("/api/health").json()
    assert health["features"]["faces"] and health["gallery_backend"] == "sqlite"
    assert "dlib_face_recognition_resnet_model_v1" in {m["id"] for m in health["models"]}
    assert health["gallery_size"] == len(desk.get("/api/people", headers=headers).json()["people"])


PEOPLE = ["Ariel_Sharon", "Hugo_Chavez", "Jacques_Chirac", "Gerhard_Schroeder", "Junichiro_Koizumi", "Jean_Chretien"]


def test_concurrent_enroll_and_identify_keep_the_gallery_consistent(
    desk: TestClient, headers: dict[str, str], lfw: Path
) -> None:
    probe = photo(lfw, "Colin_Powell", 4)

    def do_enroll(person: str) -> int:
        return desk.post(
            "/api/people",
            headers=headers,
            data={"name": person.replace("_", " ")},
            files={"photo": ("p.jpg", photo(lfw, person, 1))},
        ).status_code

    def do_identify(_: int) -> tuple[int, int]:
        response = desk.post("/api/faces/identify", headers=headers, files={"photo": ("q.jpg", probe)})
        return response.status_code, response.json()["gallery_size"]

    before = len(names(desk, headers))
    with ThreadPoolExecutor(max_workers=6) as pool:
        enrolls = [pool.submit(do_enroll, p) for p in PEOPLE]
        identifies = [pool.submit(do_identify, i) for i in range(6)]
        statuses = [f.result() for f in enrolls]
        seen = [f.result() for f in identifies]
    assert statuses == [201] * len(PEOPLE)
    assert all(code == 200 and before <= size <= before + len(PEOPLE) for code, size in seen)
    assert len(names(desk, headers)) == before + len(PEOPLE)
    for person in PEOPLE[:3]:  # each is found again, by their own second photo
        found = desk.post("/api/faces/identify", headers=headers, files={"photo": ("p.jpg", photo(lfw, person, 2))})
        assert found.json()["faces"][0]["name"] == person.replace("_", " ")


def test_busy_face_models_answer_503_instead_of_hanging(
    desk_settings: WebSettings, headers: dict[str, str], lfw: Path
) -> None:
    with TestClient(create_app(replace(desk_settings, face_wait_s=0.2)), base_url=BASE_URL) as client:
        models = client.app.state.services.feature("faces")._model_lock  # type: ignore[attr-defined]
        probe = {"photo": ("p.jpg", photo(lfw, "Tony_Blair"))}
        models.acquire()  # as if another request held the models for long
        try:
            busy = client.post("/api/faces/identify", headers=headers, files=probe)
        finally:
            models.release()
        assert busy.status_code == 503 and busy.json()["error"]["type"] == "ServiceBusyError"
        again = client.post("/api/faces/identify", headers=headers, files=probe)
        assert again.status_code == 200
