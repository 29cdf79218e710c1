"""Style transfer and top-patches jobs through HTTP: submit, progress, results, failures, privacy, limits."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from convapps.web.app import create_app
from convapps.web.keys import KeyStore
from convapps.web.settings import WebSettings

BASE_URL = "http://127.0.0.1"
TINY = {"preset": "preview", "size": "64", "steps": "4"}


@pytest.fixture(scope="module")
def job_settings(tmp_path_factory: pytest.TempPathFactory) -> WebSettings:
    state = tmp_path_factory.mktemp("jobs-state")
    return WebSettings(state_dir=state, gallery=f"sqlite:///{state / 'gallery.db'}")


@pytest.fixture(scope="module")
def keys(job_settings: WebSettings) -> tuple[dict[str, str], dict[str, str]]:
    store = KeyStore(job_settings.keys_path)
    return {"X-API-Key": store.create("alice")[1]}, {"X-API-Key": store.create("bob")[1]}


@pytest.fixture(scope="module")
def studio(job_settings: WebSettings) -> Iterator[TestClient]:
    with TestClient(create_app(job_settings), base_url=BASE_URL) as client:
        yield client


@pytest.fixture(scope="module")
def style_files(shared_data: Path) -> Callable[[], list[tuple[str, tuple[str, bytes]]]]:
    root = shared_data / "style"
    content = (root / "photos" / "tubingen.jpg").read_bytes()
    painting = (root / "paintings" / "starry_night.jpg").read_bytes()
    return lambda: [("content", ("c.jpg", content)), ("styles", ("s.jpg", painting))]


def follow(client: TestClient, headers: dict[str, str], job_id: str, timeout: float = 120) -> tuple[dict, list[float]]:
    seen: list[float] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        seen.append(job["progress"])
        if job["state"] in ("done", "failed", "cancelled"):
            return job, seen
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


@pytest.mark.shared_data
def test_style_job_progress_and_result(studio: TestClient, keys: tuple[dict, dict], style_files: Callable) -> None:
    alice, bob = keys
    presets = studio.get("/api/style/presets", headers=alice).json()
    assert [p["name"] for p in presets] == ["preview", "default", "high"] and presets[0]["default"]
    submitted = studio.post("/api/style/jobs", headers=alice, files=style_files(), data=TINY)
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert job["kind"] == "style" and job["state"] in ("queued", "running") and job["params"]["size"] == 64
    assert studio.get(f"/api/jobs/{job['id']}", headers=bob).status_code == 404  # another key's job
    final, seen = follow(studio, alice, job["id"])
    assert final["state"] == "done", final
    assert seen == sorted(seen) and seen[-1] == 1.0
    result = studio.get(final["results"][0]["url"], headers=alice)
    assert result.status_code == 200 and result.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(result.content))
    assert image.format == "PNG" and max(image.size) == 64
    assert studio.get(final["results"][0]["url"], headers=bob).status_code == 404
    assert studio.get(f"/api/jobs/{job['id']}/results/5", headers=alice).status_code == 404
    assert [j["id"] for j in studio.get("/api/jobs", headers=alice).json()] == [job["id"]]


@pytest.mark.shared_data
def test_style_job_on_vgg19(studio: TestClient, keys: tuple[dict, dict], style_files: Callable) -> None:
    alice, _ = keys
    submitted = studio.post("/api/style/jobs", headers=alice, files=style_files(), data={**TINY, "network": "vgg19"})
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["params"]["network"] == "vgg19"
    assert submitted.json()["params"]["strength"] == "normal" and submitted.json()["params"]["beta"] == 4.0
    final, _ = follow(studio, alice, submitted.json()["id"])
    assert final["state"] == "done", final
    other = studio.post("/api/style/jobs", headers=alice, files=style_files(), data={**TINY, "network": "resnet"})
    assert other.status_code == 422 and "network" in other.json()["error"]["message"]
    loud = studio.post("/api/style/jobs", headers=alice, files=style_files(), data={**TINY, "strength": "loud"})
    assert loud.status_code == 422 and "strength" in loud.json()["error"]["message"]
    strong = studio.post("/api/style/jobs", headers=alice, files=style_files(), data={**TINY, "strength": "0.75"})
    assert strong.status_code == 202 and strong.json()["params"]["beta"] == 8.0
    follow(studio, alice, strong.json()["id"])


@pytest.mark.shared_data
def test_style_job_refusals(studio: TestClient, keys: tuple[dict, dict], style_files: Callable) -> None:
    alice, _ = keys
    files = style_files()
    jobs_before = len(studio.get("/api/jobs", headers=alice).json())
    bad_preset = studio.post("/api/style/jobs", headers=alice, files=files, data={"preset": "ultra"})
    assert bad_preset.status_code == 422 and bad_preset.json()["error"]["type"] == "ValidationError"
    too_big = studio.post("/api/style/jobs", headers=alice, files=files, data={**TINY, "size": "5000"})
    assert too_big.status_code == 422 and "size" in too_big.json()["error"]["message"]
    not_image = studio.post(
        "/api/style/jobs", headers=alice, data=TINY, files=[files[0], ("styles", ("s.png", b"%PDF-1.4 not an image"))]
    )
    assert not_image.status_code == 415
    no_style = studio.post("/api/style/jobs", headers=alice, data=TINY, files=[files[0]])
    assert no_style.status_code == 422
    tiny_image = io.BytesIO()
    Image.new("RGB", (8, 8)).save(tiny_image, format="PNG")
    too_small = studio.post(
        "/api/style/jobs", headers=alice, data=TINY, files=[("content", ("c.png", tiny_image.getvalue())), files[1]]
    )
    assert too_small.status_code == 415 and "too small" in too_small.json()["error"]["message"]
    assert len(studio.get("/api/jobs", headers=alice).json()) == jobs_before  # refused requests queue nothing


@pytest.mark.shared_data
def test_queue_limit_and_cancel(job_settings: WebSettings, keys: tuple[dict, dict], style_files: Callable) -> None:
    alice, _ = keys
    with TestClient(create_app(replace(job_settings, job_queue=1)), base_url=BASE_URL) as client:
        slow = client.post(
            "/api/style/jobs",
            headers=alice,
            files=style_files(),
            data={"preset": "preview", "size": "96", "steps": "400"},
        )
        assert slow.status_code == 202
        busy = client.post("/api/style/jobs", headers=alice, files=style_files(), data=TINY)
        assert busy.status_code == 503 and busy.json()["error"]["type"] == "ServiceBusyError"
        cancelled = client.delete(f"/api/jobs/{slow.json()['id']}", headers=alice)
        assert cancelled.status_code == 200
        final, _ = follow(client, alice, slow.json()["id"], timeout=60)
        assert final["state"] == "cancelled" and final["results"] == []
        assert client.get(f"/api/jobs/{slow.json()['id']}/results/0", headers=alice).status_code == 404


@pytest.mark.shared_data
def test_top_patches_job(studio: TestClient, keys: tuple[dict, dict], shared_data: Path) -> None:
    alice, _ = keys
    options = studio.get("/api/viz/options", headers=alice).json()
    assert options["networks"] == ["vgg16-hed", "vgg19", "efficientnet-lite0"]
    assert options["layers"][0]["value"] == "1-5"
    photos = sorted((shared_data / "style" / "photos").glob("*.jpg"))[:3]
    files = [("images", (p.name, p.read_bytes())) for p in photos]
    submitted = studio.post("/api/viz/jobs", headers=alice, files=files, data={"layers": "1,2", "units": "3"})
    assert submitted.status_code == 202, submitted.text
    final, _ = follow(studio, alice, submitted.json()["id"])
    assert final["state"] == "done", final
    assert [r["name"] for r in final["results"]] == ["relu1_2.png", "relu2_2.png"]
    assert final["results"][0]["caption"].startswith("layer 1 (relu1_2): units ")
    grid = Image.open(io.BytesIO(studio.get(final["results"][1]["url"], headers=alice).content))
    assert grid.format == "PNG" and grid.size[0] > grid.size[1] > 0
    bad_layer = studio.post("/api/viz/jobs", headers=alice, files=files, data={"layers": "relu9_9"})
    assert bad_layer.status_code == 422 and "unknown layer" in bad_layer.json()["error"]["message"]
    too_many = studio.post("/api/viz/jobs", headers=alice, files=files, data={"units": "500"})
    assert too_many.status_code == 422
