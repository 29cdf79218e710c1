"""The Live page end to end: a real ``convapps serve``, headless Chromium with a fake camera playing a
640x360 clip of an LFW photo (moving slightly), the person enrolled from another photo through the API.
The page names the person over the video within a minute (Chromium may take 1-3 s a frame on a loaded
machine), with finite latencies; camera errors are shown in plain words."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .fake_camera import fake_camera_clip
from .live_service import launch, lfw_photo, live_service, playwright_session

pytestmark = pytest.mark.shared_data

NAMED_WITHIN_MS = 60_000


@pytest.fixture(scope="module")
def camera_clip(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("camera")
    return fake_camera_clip(lfw_photo(shared_data, "Colin_Powell", 2), folder / "camera.y4m", seconds=2.0)


@pytest.fixture(scope="module")
def service(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real service with Colin Powell enrolled from a photo other than the camera's."""
    with live_service(tmp_path_factory.mktemp("live-service")) as (url, key):
        photo = lfw_photo(shared_data, "Colin_Powell", 1).read_bytes()
        enrolled = httpx.post(
            f"{url}/api/people",
            headers={"Authorization": f"Bearer {key}"},
            data={"name": "Colin Powell"},
            files={"photo": ("colin.jpg", photo, "image/jpeg")},
            timeout=120,
        )
        assert enrolled.status_code == 201, enrolled.text
        yield url, key


@pytest.fixture(scope="module")
def camera_browser(camera_clip: Path) -> Iterator[object]:
    fake_camera = (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera_clip}",
    )
    with playwright_session() as p:
        browser = launch(p, fake_camera)
        yield browser
        browser.close()  # type: ignore[attr-defined]


@pytest.fixture
def live_page(camera_browser: object, service: tuple[str, str]) -> Iterator[object]:
    from playwright.sync_api import expect

    url, key = service
    context = camera_browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/#key={key}")
    expect(page.locator("#page-people")).to_be_visible()
    page.click("nav a[data-page=live]")
    expect(page.locator("#page-live")).to_be_visible()
    yield page
    context.close()
    assert errors == []


def test_live_page_names_the_person_on_the_camera(live_page: object) -> None:
    from playwright.sync_api import expect

    page = live_page
    page.click("#live-toggle")  # type: ignore[attr-defined]
    expect(page.locator("#live-toggle")).to_have_text("Stop camera")  # type: ignore[attr-defined]
    expect(page.locator("#live-view")).to_be_visible()  # type: ignore[attr-defined]
    known = page.locator("#live-faces li.known")  # type: ignore[attr-defined]
    expect(known).to_have_text(re.compile(r"^#\d+ Colin Powell$"), timeout=NAMED_WITHIN_MS)
    expect(page.locator("#live-faces li.unknown")).to_have_count(0)  # type: ignore[attr-defined]

    stats = page.evaluate("window.convappsLive.stats")  # type: ignore[attr-defined]
    assert stats["received"] >= 3 and stats["sent"] >= stats["received"] and stats["errors"] == 0
    latencies = stats["latencies_ms"]
    assert len(latencies) == stats["received"] and all(math.isfinite(x) and 0 < x < 60_000 for x in latencies)
    last = page.evaluate("window.convappsLive.last")  # type: ignore[attr-defined]
    assert (last["width"], last["height"]) == (640, 360)
    face = last["faces"][0]
    left, top, right, bottom = face["box"]
    assert face["name"] == "Colin Powell" and 150 <= left < right <= 490 and 10 <= top < bottom <= 350
    status = page.locator("#live-status")  # type: ignore[attr-defined]
    expect(status).to_have_text(re.compile(r"^\d+\.\d frames/s · latency p50 \d+ ms · 1 face$"))

    page.click("#live-toggle")  # type: ignore[attr-defined]
    expect(page.locator("#live-view")).to_be_hidden()  # type: ignore[attr-defined]
    expect(page.locator("#live-toggle")).to_have_text("Start camera")  # type: ignore[attr-defined]
    expect(page.locator("#live-error")).to_be_hidden()  # type: ignore[attr-defined]


def test_camera_disconnected_stops_with_a_message(live_page: object) -> None:
    from playwright.sync_api import expect

    page = live_page
    page.click("#live-toggle")  # type: ignore[attr-defined]
    status = page.locator("#live-status")  # type: ignore[attr-defined]
    expect(status).to_have_text(re.compile(r"frames/s"), timeout=NAMED_WITHIN_MS)  # a result arrived
    page.evaluate(  # type: ignore[attr-defined]
        "document.getElementById('live-video').srcObject.getVideoTracks()[0].dispatchEvent(new Event('ended'))"
    )
    expect(page.locator("#live-error")).to_have_text(re.compile(r"^The camera was disconnected\."))  # type: ignore[attr-defined]
    expect(page.locator("#live-view")).to_be_hidden()  # type: ignore[attr-defined]
    expect(page.locator("#live-toggle")).to_have_text("Start camera")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ("NotAllowedError", r"^Camera permission was denied\."),
        ("NotFoundError", r"^No camera was found\."),
        ("NotReadableError", r"^The camera cannot be started"),
    ],
)
def test_camera_errors_are_explained(live_page: object, error: str, message: str) -> None:
    from playwright.sync_api import expect

    page = live_page
    page.evaluate(  # type: ignore[attr-defined]
        "name => { navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no', name)); }",
        error,
    )
    page.click("#live-toggle")  # type: ignore[attr-defined]
    expect(page.locator("#live-error")).to_have_text(re.compile(message))  # type: ignore[attr-defined]
    expect(page.locator("#live-view")).to_be_hidden()  # type: ignore[attr-defined]
    assert page.evaluate("window.convappsLive.stats.sent") == 0  # type: ignore[attr-defined]


def test_live_page_fits_a_phone(live_page: object) -> None:
    from playwright.sync_api import expect

    page = live_page
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    page.click("#live-toggle")  # type: ignore[attr-defined]
    expect(page.locator("#live-status")).to_have_text(re.compile("frames/s"), timeout=NAMED_WITHIN_MS)  # type: ignore[attr-defined]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # type: ignore[attr-defined]
    video = page.locator("#live-video").bounding_box()  # type: ignore[attr-defined]
    overlay = page.locator("#live-overlay").bounding_box()  # type: ignore[attr-defined]
    assert video["width"] <= 390 and abs(video["height"] - video["width"] * 360 / 640) <= 2
    assert all(abs(video[k] - overlay[k]) <= 1 for k in ("x", "y", "width", "height"))  # boxes land on faces
