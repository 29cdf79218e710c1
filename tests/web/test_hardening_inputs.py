"""Hostile and first-time inputs get HTTP statuses and plain words: names that render misleadingly,
group photos, absurd numbers, sizes across aspect ratios, bad layer names, photos without a face."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from convapps.style.config import preset
from convapps.web.app import create_app
from convapps.web.features.style import StyleStudio
from convapps.web.keys import KeyStore
from convapps.web.settings import WebSettings

pytestmark = pytest.mark.shared_data
BASE_URL = "http://127.0.0.1"
LFW_PEOPLE = ["Tony_Blair", "Colin_Powell", "Laura_Bush", "Gray_Davis", "Serena_Williams"]


@pytest.fixture(scope="module")
def lfw(shared_data: Path) -> Path:
    return shared_data / "faces" / "lfw" / "lfw-deepfunneled"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> WebSettings:
    state = tmp_path_factory.mktemp("hardening-state")
    return WebSettings(state_dir=state, gallery=f"sqlite:///{state / 'gallery.db'}")


@pytest.fixture(scope="module")
def key(settings: WebSettings) -> tuple[str, dict[str, str]]:
    api_key, plaintext = KeyStore(settings.keys_path).create("hardening")
    return api_key.id, {"X-API-Key": plaintext}


@pytest.fixture(scope="module")
def headers(key: tuple[str, dict[str, str]]) -> dict[str, str]:
    return key[1]


@pytest.fixture(scope="module")
def client(settings: WebSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url=BASE_URL, raise_server_exceptions=False) as app_client:
        yield app_client


def photo(lfw: Path, person: str, n: int = 1) -> bytes:
    return (lfw / person / f"{person}_{n:04d}.jpg").read_bytes()


def encoded(pixels: np.ndarray | Image.Image, fmt: str = "PNG") -> bytes:
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def noise(width: int, height: int, seed: int = 0) -> bytes:
    return encoded(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def flat(width: int = 96, height: int = 96) -> bytes:
    return encoded(np.full((height, width, 3), 200, dtype=np.uint8))


def error(response: object) -> tuple[int, str, str]:
    body = response.json()["error"]  # type: ignore[attr-defined]
    return response.status_code, body["type"], body["message"]  # type: ignore[attr-defined]


def names(client: TestClient, headers: dict[str, str]) -> list[str]:
    body = client.get("/api/people", headers=headers, params={"limit": 1000}).json()
    return sorted(p["name"] for p in body["people"])


def enroll(client: TestClient, headers: dict[str, str], name: str, data: bytes, **form: object) -> object:
    return client.post("/api/people", headers=headers, data={"name": name, **form}, files={"photo": ("p.jpg", data)})


def follow(client: TestClient, headers: dict[str, str], job_id: str, timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if job["state"] in ("done", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


# ---- 4: names ------------------------------------------------------------------------------------
def test_names_with_invisible_or_direction_characters_or_confusable_with_an_enrolled_one_are_422(
    client: TestClient, headers: dict[str, str], lfw: Path, settings: WebSettings
) -> None:
    tony = enroll(client, headers, "Tony Blair", photo(lfw, "Tony_Blair"))
    assert tony.status_code == 201, tony.text  # type: ignore[attr-defined]
    before = names(client, headers)
    for bad, reason in [
        ("Ariel\u202eexe.norahS", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("Colin\u200bPowell", "U+200B ZERO WIDTH SPACE"),
        ("Tony Blair\u200b", "U+200B ZERO WIDTH SPACE"),  # an invisible twin
        ("tony blair", "too easily confused with 'Tony Blair'"),
        ("T\u043eny Bl\u0430ir", "too easily confused with 'Tony Blair'"),  # Cyrillic o and a
        ("\uff34ony Blair", "too easily confused with 'Tony Blair'"),  # full-width T
    ]:
        status, kind, message = error(enroll(client, headers, bad, photo(lfw, "Colin_Powell")))
        assert (status, kind) == (422, "InvalidInputError"), bad
        assert reason in message and "\u202e" not in message and "\u200b" not in message and "/" not in message
    assert names(client, headers) == before
    colin = enroll(client, headers, "Colin Powell", photo(lfw, "Colin_Powell"))
    assert colin.status_code == 201  # type: ignore[attr-defined]
    colin_id = colin.json()["id"]  # type: ignore[attr-defined]
    for bad in ["TONY BLAIR", "Colin\u2066Powell"]:
        renamed = client.patch(f"/api/people/{colin_id}", headers=headers, json={"name": bad})
        assert renamed.status_code == 422 and renamed.json()["error"]["type"] == "InvalidInputError", bad
    recased = client.patch(f"/api/people/{colin_id}", headers=headers, json={"name": "COLIN POWELL"})
    assert recased.status_code == 200 and recased.json()["name"] == "COLIN POWELL"
    nfc = client.patch(f"/api/people/{colin_id}", headers=headers, json={"name": "Colin Powe\u0301ll"})
    assert nfc.status_code == 200 and nfc.json()["name"] == "Colin Powéll"  # stored NFC (composed)
    audit = [json.loads(line) for line in settings.audit_path.read_text().splitlines()]
    assert sum(r["action"] == "enroll" and r["outcome"] == "refused" for r in audit) >= 6


# ---- 5: group photos -----------------------------------------------------------------------------
def test_enrolling_from_a_group_photo_is_422_naming_the_count(
    client: TestClient, headers: dict[str, str], lfw: Path
) -> None:
    canvas = Image.new("RGB", (250 * len(LFW_PEOPLE), 250), "white")
    for i, person in enumerate(LFW_PEOPLE):
        canvas.paste(Image.open(io.BytesIO(photo(lfw, person))).convert("RGB"), (250 * i, 0))
    before = names(client, headers)
    status, kind, message = error(enroll(client, headers, "Group Photo", encoded(canvas, "JPEG")))
    assert (status, kind) == (422, "SeveralFacesError")
    assert f"{len(LFW_PEOPLE)} faces found" in message and "face=N" in message and "--" not in message
    assert names(client, headers) == before


# ---- 6: numeric job parameters and degenerate results --------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("style_weight", "1e308"),
        ("style_weight", "inf"),
        ("style_weight", "nan"),
        ("style_weight", "-1"),
        ("style_weight", "1001"),
        ("size", "5000"),
        ("size", "31"),
        ("size", "1e3"),
        ("steps", "0"),
        ("steps", "1001"),
        ("steps", "nan"),
    ],
)
def test_style_numbers_must_be_finite_and_in_range(
    client: TestClient, headers: dict[str, str], field: str, value: str
) -> None:
    files = [("content", ("c.png", noise(64, 48))), ("styles", ("s.png", noise(64, 48, 1)))]
    data = {"preset": "preview", "size": "64", "steps": "2", field: value}
    jobs_before = len(client.get("/api/jobs", headers=headers).json())
    status, kind, message = error(client.post("/api/style/jobs", headers=headers, files=files, data=data))
    assert (status, kind) == (422, "ValidationError") and message.startswith(f"{field}: ")
    assert len(client.get("/api/jobs", headers=headers).json()) == jobs_before


@pytest.mark.parametrize(("field", "value"), [("units", "0"), ("units", "33"), ("units", "nan"), ("layers", "1" * 300)])
def test_viz_numbers_are_in_range(client: TestClient, headers: dict[str, str], field: str, value: str) -> None:
    files = [("images", ("a.png", noise(64, 64)))]
    status, kind, message = error(client.post("/api/viz/jobs", headers=headers, files=files, data={field: value}))
    assert (status, kind) == (422, "ValidationError") and message.startswith(f"{field}: ")


def test_a_job_whose_result_is_degenerate_fails_with_a_reason(
    client: TestClient, key: tuple[str, dict[str, str]]
) -> None:
    key_id, headers = key
    studio = client.app.state.services.feature("style")  # type: ignore[attr-defined]
    assert isinstance(studio, StyleStudio)
    rng = np.random.default_rng(0)
    content, style = (rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(2))
    config = preset("preview").replace(size=64, iterations=(3,), beta=1e308)  # past the API's checks
    work = studio.work(content, [style], config, "degenerate")
    job = client.app.state.services.jobs.submit("style", key_id, work)  # type: ignore[attr-defined]
    final = follow(client, headers, job.id)
    assert final["state"] == "failed" and final["results"] == []
    assert "diverged" in str(final["error"]) and "beta" in str(final["error"])


# ---- 7: sizes across aspect ratios ---------------------------------------------------------------
def test_the_smallest_size_works_with_wide_and_tall_images(client: TestClient, headers: dict[str, str]) -> None:
    wide, tall = noise(320, 180), noise(180, 320, 1)  # 16:9 and 9:16
    for content, painting, expected in [
        (wide, wide, (57, 32)),
        (noise(64, 64, 2), wide, (32, 32)),
        (tall, wide, (32, 57)),
    ]:
        files = [("content", ("c.png", content)), ("styles", ("s.png", painting))]
        submitted = client.post("/api/style/jobs", headers=headers, files=files, data={"size": "32", "steps": "2"})
        assert submitted.status_code == 202, submitted.text
        assert submitted.json()["params"]["size"] == max(expected)
        final = follow(client, headers, submitted.json()["id"])
        assert final["state"] == "done", final
        result = client.get(final["results"][0]["url"], headers=headers)  # type: ignore[index]
        assert Image.open(io.BytesIO(result.content)).size == expected


# ---- 8: statuses and plain language --------------------------------------------------------------
def test_bad_layer_names_are_422_not_404(client: TestClient, headers: dict[str, str]) -> None:
    files = [("images", ("a.png", noise(64, 64)))]
    for layers in ["../../etc", "relu9_9", "/etc/passwd"]:
        status, kind, message = error(
            client.post("/api/viz/jobs", headers=headers, files=files, data={"layers": layers})
        )
        assert (status, kind) == (422, "InvalidInputError"), layers
        assert "unknown layer" in message and "--" not in message


def test_a_photo_without_a_face_is_an_empty_identify_and_a_plain_422_elsewhere(
    client: TestClient, headers: dict[str, str], lfw: Path
) -> None:
    enroll(client, headers, "Tony Blair", photo(lfw, "Tony_Blair"))  # 201, or 409 when enrolled above
    found = client.post("/api/faces/identify", headers=headers, files={"photo": ("wall.png", flat())})
    assert found.status_code == 200
    body = found.json()
    assert body["faces"] == [] and body["message"].startswith("No face was found in this photo.")
    assert body["image"] == {"width": 96, "height": 96} and body["tau"] > 0
    one = client.post("/api/faces/identify", headers=headers, files={"photo": ("t.jpg", photo(lfw, "Tony_Blair", 2))})
    assert one.status_code == 200 and one.json()["message"] in (
        "1 face found: 1 recognized.",
        "1 face found: 0 recognized.",
    )

    refusals = [
        enroll(client, headers, "Nobody", flat()),
        client.post(
            "/api/faces/verify",
            headers=headers,
            files={"photo": ("a.jpg", photo(lfw, "Tony_Blair")), "photo2": ("wall.png", flat())},
        ),
        client.post(
            "/api/faces/verify", headers=headers, data={"name": "Tony Blair"}, files={"photo": ("wall.png", flat())}
        ),
    ]
    for response in refusals:
        status, kind, message = error(response)
        assert (status, kind) == (422, "NoFaceError")
        assert message.startswith("no face was found in ") and "clearly visible" in message
        assert "<image" not in message and "--" not in message and "/" not in message
    assert "'wall.png'" in error(refusals[1])[2] and "'wall.png'" in error(refusals[2])[2]
