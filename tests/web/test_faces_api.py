"""The face desk through HTTP: enroll (with its photo checks), list, rename, remove, identify (with its
gallery-size-aware tau), verify, threshold, audit, limits."""

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
from PIL import Image, ImageFilter

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
    assert ada.pop("warnings") == [] and ada["name"] == "Colin Powell" and ada["n_encodings"] == 1
    assert "Colin Powell" in names(desk, headers)

    same = desk.post("/api/faces/identify", headers=headers, files={"photo": ("q.jpg", photo(lfw, "Colin_Powell", 2))})
    assert same.status_code == 200
    body = same.json()
    assert body["image"] == {"width": 250, "height": 250} and len(body["faces"]) == 1
    face = body["faces"][0]
    assert face["recognized"] and face["name"] == "Colin Powell" and face["identity_id"] == ada["id"]
    assert face["distance"] > 0 and face["score"] <= face["tau"] == body["tau"] == body["threshold"]
    assert face["sentence"].startswith("This is Colin Powell (match score")
    box = face["box"]
    assert 0 <= box["left"] < box["right"] < 250 and 0 <= box["top"] < box["bottom"] < 250

    stranger = desk.post("/api/faces/identify", headers=headers, files={"photo": ("s.jpg", photo(lfw, "Laura_Bush"))})
    face = stranger.json()["faces"][0]
    assert not face["recognized"] and face["name"] is None and face["score"] > stranger.json()["tau"]
    assert face["nearest_name"] == "Colin Powell" and face["sentence"].startswith("Not recognized")

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
    assert noface.status_code == 200 and noface.json()["faces"] == []
    assert noface.json()["message"].startswith("No face was found")
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
    k = len(names(desk, headers))
    assert k >= 2 and info["gallery_size"] == k and info["identify_calibrated"] and info["identify_far"] == 0.01
    assert info["identify_tau_reason"] == f"tau {info['identify_tau']:.2f}: {k} people, FAR 1% per search"
    loose = desk.get("/api/faces/threshold", headers=headers, params={"far": 0.2}).json()
    assert loose["threshold"] == info["threshold"]  # verification (1:1) keeps its own tau
    assert loose["identify_tau"] > info["identify_tau"] and "FAR 20% per search" in loose["identify_tau_reason"]
    assert desk.get("/api/faces/threshold", headers=headers, params={"far": 1}).status_code == 422
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


def lfw_rgb(lfw: Path, person: str, n: int = 1) -> Image.Image:
    return Image.open(io.BytesIO(photo(lfw, person, n))).convert("RGB")


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def two_faces(lfw: Path) -> bytes:
    """Gray_Davis_0001 (250 px, the larger face) next to Serena_Williams_0001 shrunk to 170 px."""
    canvas = Image.new("RGB", (420, 250), "white")
    canvas.paste(lfw_rgb(lfw, "Gray_Davis"), (0, 0))
    canvas.paste(lfw_rgb(lfw, "Serena_Williams").resize((170, 170)), (250, 40))
    return jpeg(canvas)


def post_person(desk: TestClient, headers: dict[str, str], name: str, data: bytes, **form: object) -> object:
    return desk.post("/api/people", headers=headers, data={"name": name, **form}, files={"photo": ("p.jpg", data)})


def test_identify_says_which_tau_and_why(desk: TestClient, headers: dict[str, str], lfw: Path) -> None:
    enroll(desk, headers, "Vladimir Putin", photo(lfw, "Vladimir_Putin", 1))
    enroll(desk, headers, "Gloria Arroyo", photo(lfw, "Gloria_Macapagal_Arroyo", 1))
    k = len(names(desk, headers))
    probe = {"photo": ("q.jpg", photo(lfw, "Vladimir_Putin", 2))}
    body = desk.post("/api/faces/identify", headers=headers, files=probe).json()
    assert body["gallery_size"] == k and body["far"] == 0.01 and body["calibrated"]
    assert body["tau_reason"] == f"tau {body['tau']:.2f}: {k} people, FAR 1% per search"
    face = body["faces"][0]
    assert face["name"] == "Vladimir Putin" and face["nearest_name"] == "Vladimir Putin"
    assert face["tau"] == body["tau"] and face["tau_reason"] == body["tau_reason"] and face["calibrated"]
    assert face["second_name"] not in (None, "Vladimir Putin")
    assert face["score"] <= face["tau"] < face["second_score"]
    assert face["margin"] == pytest.approx(face["second_score"] - face["score"])
    assert face["distance"] < face["second_distance"]
    assert face["sentence"] == (
        f"This is Vladimir Putin (match score {face['score']:.2f}, limit {face['tau']:.2f}; "
        f"next closest: {face['second_name']})."
    )

    strict = desk.post("/api/faces/identify", headers=headers, files=probe, data={"far": "0.001"}).json()
    loose = desk.post("/api/faces/identify", headers=headers, files=probe, data={"far": "0.2"}).json()
    assert strict["tau"] < body["tau"] < loose["tau"] and strict["far"] == 0.001
    assert "FAR 0.1% per search" in strict["tau_reason"] and "FAR 20% per search" in loose["tau_reason"]
    assert strict["faces"][0]["score"] == pytest.approx(face["score"])  # tau moves, the score does not
    for bad in ["0", "1", "-0.1", "1.5", "often"]:
        refused = desk.post("/api/faces/identify", headers=headers, files=probe, data={"far": bad})
        assert refused.status_code == 422 and refused.json()["error"]["type"] == "ValidationError", bad
        assert "far" in refused.json()["error"]["message"]


def test_enroll_checks_refuse_unclear_photos_and_warn_about_look_alikes(
    desk: TestClient, headers: dict[str, str], lfw: Path, desk_settings: WebSettings
) -> None:
    before = names(desk, headers)
    group = two_faces(lfw)
    several = post_person(desk, headers, "Gray Davis", group)
    assert several.status_code == 422 and several.json()["error"]["type"] == "SeveralFacesError"
    message = several.json()["error"]["message"]
    assert "2 faces found" in message and "face=N" in message and "--" not in message
    beyond = post_person(desk, headers, "Gray Davis", group, face=2)
    assert beyond.status_code == 422 and "2 face(s) found" in beyond.json()["error"]["message"]
    negative = post_person(desk, headers, "Gray Davis", group, face=-1)
    assert negative.status_code == 422 and negative.json()["error"]["type"] == "ValidationError"

    blurred = jpeg(lfw_rgb(lfw, "John_Ashcroft").filter(ImageFilter.GaussianBlur(4)))
    blurry = post_person(desk, headers, "John Ashcroft", blurred)
    assert blurry.status_code == 422 and blurry.json()["error"]["type"] == "FaceQualityError"
    assert "blurry" in blurry.json()["error"]["message"]
    assert names(desk, headers) == before  # nothing refused was stored

    chosen = post_person(desk, headers, "Gray Davis", group, face=0)
    assert chosen.status_code == 201 and chosen.json()["name"] == "Gray Davis"
    found = desk.post("/api/faces/identify", headers=headers, files={"photo": ("g.jpg", photo(lfw, "Gray_Davis", 2))})
    assert found.json()["faces"][0]["name"] == "Gray Davis"  # face 0 is the largest

    first = enroll(desk, headers, "Donald Rumsfeld", photo(lfw, "Donald_Rumsfeld", 1))
    assert first["warnings"] == []
    twin = enroll(desk, headers, "Rumsfeld Twin", photo(lfw, "Donald_Rumsfeld", 2))
    assert len(twin["warnings"]) == 1
    warning = str(twin["warnings"][0])
    assert warning.startswith("looks like Donald Rumsfeld (d = ") and warning.endswith(")")
    assert 0 < float(warning.split("d = ")[1].rstrip(")")) <= 0.36

    log = [json.loads(line) for line in desk_settings.audit_path.read_text().splitlines()]
    enrolls = {
        (r["details"]["name"], r["outcome"], r["details"].get("error")): r for r in log if r["action"] == "enroll"
    }
    assert enrolls[("Rumsfeld Twin", "ok", None)]["details"]["warnings"] == 1
    assert enrolls[("Gray Davis", "ok", None)]["details"] == {
        "name": "Gray Davis",
        "face": 0,
        "identity_id": chosen.json()["id"],
        "warnings": len(chosen.json()["warnings"]),
    }
    assert ("Gray Davis", "refused", "SeveralFacesError") in enrolls
    assert ("John Ashcroft", "refused", "FaceQualityError") in enrolls
