"""First use through HTTP: people a page at a time with search, the style limits the UI reads, and the
style images that ship with the service."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from convapps.models.registry import get_network
from convapps.web.app import create_app
from convapps.web.keys import KeyStore
from convapps.web.settings import WebSettings
from convapps.web.style_limits import MAX_SIZE, MAX_STEPS, MAX_STYLE_WEIGHT, MIN_SIZE

BASE_URL = "http://127.0.0.1"
N_PEOPLE = 400


def png_bytes(width: int, height: int, seed: int = 0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def first_use(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A service whose gallery holds 400 people ("Person 000" ... "Person 399") and one key."""
    from convapps.gallery import open_gallery

    state = tmp_path_factory.mktemp("first-use-state")
    gallery = state / "gallery.db"
    rng = np.random.default_rng(0)
    with open_gallery(f"sqlite:///{gallery}", space=get_network("dlib-resnet").space) as store:
        store.enroll_many((f"Person {i:03d}", rng.normal(size=(1, 128)), None) for i in reversed(range(N_PEOPLE)))
    settings = WebSettings(state_dir=state, gallery=f"sqlite:///{gallery}")
    headers = {"X-API-Key": KeyStore(settings.keys_path).create("first-use")[1]}
    with TestClient(create_app(settings), base_url=BASE_URL, raise_server_exceptions=False) as client:
        yield client, headers


def test_people_come_a_page_at_a_time_sorted_by_name(first_use: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = first_use
    first = client.get("/api/people", headers=headers).json()
    assert (first["count"], first["total"], first["offset"], first["limit"]) == (50, N_PEOPLE, 0, 50)
    assert [p["name"] for p in first["people"]] == [f"Person {i:03d}" for i in range(50)]
    last = client.get("/api/people", headers=headers, params={"offset": 380, "limit": 50}).json()
    assert [p["name"] for p in last["people"]] == [f"Person {i:03d}" for i in range(380, 400)]
    assert (last["count"], last["total"]) == (20, N_PEOPLE)
    beyond = client.get("/api/people", headers=headers, params={"offset": 400}).json()
    assert (beyond["people"], beyond["total"]) == ([], N_PEOPLE)


def test_people_search_ignores_case_and_counts_all_matches(first_use: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = first_use
    found = client.get("/api/people", headers=headers, params={"q": "  PERSON 12", "limit": 5}).json()
    assert found["total"] == 10  # Person 120 ... Person 129
    assert [p["name"] for p in found["people"]] == [f"Person {i}" for i in range(120, 125)]
    none = client.get("/api/people", headers=headers, params={"q": "Nobody"}).json()
    assert (none["people"], none["count"], none["total"]) == ([], 0, 0)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"q": "x" * 201}])
def test_people_paging_parameters_are_checked(
    first_use: tuple[TestClient, dict[str, str]], params: dict[str, object]
) -> None:
    client, headers = first_use
    response = client.get("/api/people", headers=headers, params=params)
    assert response.status_code == 422, response.text


def test_style_options_give_the_limits_the_jobs_route_applies(first_use: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = first_use
    response = client.get("/api/style/options", headers=headers)
    assert response.status_code == 200, response.text
    limits = response.json()["limits"]
    assert limits["size"] == {"min": MIN_SIZE, "max": MAX_SIZE}
    assert limits["steps"] == {"min": 1, "max": MAX_STEPS} and MAX_STEPS == 1000
    assert limits["style_weight"] == {"min": 0, "max": MAX_STYLE_WEIGHT}
    files = [("content", ("c.png", png_bytes(64, 48))), ("styles", ("s.png", png_bytes(64, 48, seed=1)))]
    over = {"steps": str(int(limits["steps"]["max"]) + 1), "size": "64"}
    refused = client.post("/api/style/jobs", headers=headers, files=files, data=over)
    assert refused.status_code == 422, refused.text
    assert "1000" in refused.json()["error"]["message"]
    assert client.get("/api/style/options").status_code == 401


def test_the_shipped_style_images_are_served(first_use: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = first_use
    samples = client.get("/api/style/options", headers=headers).json()["samples"]
    assert [s["id"] for s in samples] == ["swirl", "hubble", "stain", "brick"]
    assert all(s["title"] and s["credit"] for s in samples)
    for sample in samples:
        response = client.get(sample["url"], headers=headers)
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(response.content))
        assert image.mode == "RGB" and max(image.size) <= 512 and min(image.size) >= 256
        assert np.asarray(image).std() > 10  # a picture, not a blank
    assert client.get("/api/style/samples/nope", headers=headers).status_code == 404
    assert client.get("/api/style/samples/swirl").status_code == 401


def test_a_job_stays_listed_for_its_key_after_the_page_is_gone(first_use: tuple[TestClient, dict[str, str]]) -> None:
    """What the UI shows on reload: ``GET /api/jobs`` lists this key's jobs, newest first, with progress."""
    client, headers = first_use
    files = [("content", ("c.png", png_bytes(64, 48))), ("styles", ("s.png", png_bytes(64, 48, seed=1)))]
    job = client.post("/api/style/jobs", headers=headers, files=files, data={"size": "64", "steps": "1000"}).json()
    try:
        listed = client.get("/api/jobs", headers=headers).json()
        assert listed[0]["id"] == job["id"] and listed[0]["kind"] == "style"
        assert listed[0]["state"] in ("queued", "running") and listed[0]["params"]["size"] == 64
    finally:
        cancelled = client.delete(f"/api/jobs/{job['id']}", headers=headers)
    assert cancelled.status_code == 200
