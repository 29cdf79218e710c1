"""End to end in headless Chromium against a real ``convapps serve`` on loopback.

Enroll a person from an LFW photo, identify another photo of them and see the decision as a sentence
with the tau used and why; a stranger shows "Not recognized"; a photo with two faces is refused until a
face is chosen; a look-alike is enrolled with a warning; a style job shows progress, then the image.
Skipped (with the reason) only when no Chromium is installed (``scripts/install-browser.sh`` installs
it) or Playwright's Python package is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .live_service import launch, lfw_photo, live_service, playwright_session

pytestmark = pytest.mark.shared_data


def _photo(shared_data: Path, person: str, n: int) -> str:
    return str(lfw_photo(shared_data, person, n))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real service started by ``convapps serve --first-run``; yields (url, first API key)."""
    with live_service(tmp_path_factory.mktemp("browser-service")) as running:
        yield running


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    with playwright_session() as session:
        yield session


@pytest.fixture(scope="module")
def browser(playwright: object) -> Iterator[object]:
    launched = launch(playwright)
    yield launched
    launched.close()  # type: ignore[attr-defined]


@pytest.fixture
def page(browser: object, service: tuple[str, str]) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.errors = []  # JavaScript exceptions on the page
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    yield tab
    context.close()


def test_enroll_then_identify_by_name_and_stranger(page, service: tuple[str, str], shared_data: Path) -> None:
    from playwright.sync_api import expect

    url, key = service
    page.goto(f"{url}/#key={key}")
    expect(page.locator("#page-people")).to_be_visible()
    assert "cvk_" not in page.url  # the key left the address bar
    expect(page.locator("#session-name")).to_have_text("Key: first-run")

    page.fill("#enroll-name", "Colin Powell")
    page.set_input_files("#enroll-file", _photo(shared_data, "Colin_Powell", 1))
    expect(page.locator("#enroll-preview")).to_be_visible()
    page.click("#enroll-submit")
    expect(page.locator("#enroll-ok")).to_have_text("Enrolled Colin Powell.")
    expect(page.locator("#people-list li")).to_have_count(1)
    expect(page.locator("#people-list")).to_contain_text("Colin Powell")

    page.click("nav a[data-page=check]")
    expect(page.locator("#page-check")).to_be_visible()
    page.set_input_files("#identify-file", _photo(shared_data, "Colin_Powell", 2))
    page.click("#identify-submit")
    known = page.locator("#identify-faces li.known")
    expect(known.locator(".sentence")).to_have_text(re.compile(r"^This is Colin Powell \(match score 0\.\d\d, limit "))
    expect(known.locator(".details")).to_contain_text(re.compile(r"tau \d\.\d\d: 1 person, FAR 1% per search$"))
    assert page.eval_on_selector("#identify-canvas", "c => [c.width, c.height]") == [250, 250]

    page.set_input_files("#identify-file", _photo(shared_data, "Laura_Bush", 1))
    page.click("#identify-submit")
    expect(page.locator("#identify-faces li.unknown .sentence")).to_have_text(
        "Not recognized: nobody enrolled is close enough (the closest, Colin Powell, is not a match)."
    )
    expect(page.locator("#identify-faces li")).to_have_count(1)
    expect(page.locator("#identify-faces li.known")).to_have_count(0)

    page.check("input[name=verify-mode][value=name]")
    page.set_input_files("#verify-file", _photo(shared_data, "Colin_Powell", 3))
    page.select_option("#verify-name", "Colin Powell")
    page.click("#verify-submit")
    expect(page.locator("#verify-result")).to_contain_text("Same person as Colin Powell")

    page.set_input_files(
        "#identify-file", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"this is not a photo"}]
    )
    page.click("#identify-submit")
    expect(page.locator("#identify-error")).to_contain_text("not an image")
    assert page.errors == []


def jpeg_of(image: object) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)  # type: ignore[attr-defined]
    return buffer.getvalue()


def test_enroll_checks_choose_a_face_and_warn(page, service: tuple[str, str], shared_data: Path) -> None:
    from PIL import Image
    from playwright.sync_api import expect

    url, key = service
    page.goto(f"{url}/#key={key}")
    expect(page.locator("#page-people")).to_be_visible()
    group = Image.new("RGB", (420, 250), "white")  # a large face (face 0) next to a smaller one
    group.paste(Image.open(_photo(shared_data, "Gray_Davis", 1)), (0, 0))
    group.paste(Image.open(_photo(shared_data, "Serena_Williams", 1)).resize((170, 170)), (250, 40))
    page.fill("#enroll-name", "Gray Davis")
    two = {"name": "two.jpg", "mimeType": "image/jpeg", "buffer": jpeg_of(group)}
    page.set_input_files("#enroll-file", files=[two])
    expect(page.locator("#enroll-face-choice")).to_be_hidden()
    page.click("#enroll-submit")
    expect(page.locator("#enroll-error")).to_contain_text("2 faces found")
    expect(page.locator("#enroll-error")).not_to_contain_text("face=N")
    expect(page.locator("#enroll-face-choice")).to_be_visible()
    page.fill("#enroll-face", "0")
    page.click("#enroll-submit")
    expect(page.locator("#enroll-ok")).to_have_text("Enrolled Gray Davis.")
    expect(page.locator("#enroll-error")).to_be_hidden()
    expect(page.locator("#enroll-face-choice")).to_be_hidden()

    page.fill("#enroll-name", "Colin Twin")  # a second photo of someone enrolled, under another name
    page.set_input_files("#enroll-file", _photo(shared_data, "Colin_Powell", 4))
    page.click("#enroll-submit")
    expect(page.locator("#enroll-ok")).to_have_text("Enrolled Colin Twin.")
    expect(page.locator("#enroll-warnings")).to_be_visible()
    warning = re.compile(r"^looks like Colin Powell \(d = 0\.\d\d\)$")
    expect(page.locator("#enroll-warnings li")).to_have_text(warning)
    assert page.errors == []


def test_style_job_shows_progress_then_the_image(page, service: tuple[str, str], shared_data: Path) -> None:
    from playwright.sync_api import expect

    url, key = service
    page.goto(f"{url}/#key={key}")
    page.click("nav a[data-page=style]")
    expect(page.locator("#style-preset option")).to_have_count(3)
    page.set_input_files("#style-content", str(shared_data / "style" / "photos" / "tubingen.jpg"))
    page.set_input_files("#style-styles", str(shared_data / "style" / "paintings" / "starry_night.jpg"))
    page.click("#style-form details summary")
    page.fill("#style-size", "64")
    page.fill("#style-steps", "30")
    page.select_option("#style-network", "vgg19")  # Gatys et al.'s ImageNet VGG19
    page.click("#style-submit")
    expect(page.locator("#style-job")).to_be_visible()
    page.wait_for_function(
        "() => { const p = document.getElementById('style-progress');"
        " return p.value > 0 && /%/.test(document.getElementById('style-status').textContent); }",
        timeout=90_000,
    )
    expect(page.locator("#style-result")).to_be_visible(timeout=120_000)
    expect(page.locator("#style-status")).to_have_text("Done.")
    size = page.eval_on_selector("#style-result", "img => [img.naturalWidth, img.naturalHeight]")
    assert max(size) == 64
    expect(page.locator("#style-download")).to_be_visible()
    jobs = httpx.get(f"{url}/api/jobs", headers={"X-API-Key": key}).json()
    assert jobs[0]["kind"] == "style" and jobs[0]["params"]["network"] == "vgg19"
    assert page.errors == []


def test_key_gate_refuses_a_wrong_key(page, service: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    url, _ = service
    page.goto(f"{url}/")
    expect(page.locator("#gate")).to_be_visible()
    expect(page.locator("#page-people")).to_be_hidden()
    page.fill("#gate-key", "cvk_000000000000_not-a-real-key")
    page.click("#gate-form button[type=submit]")
    expect(page.locator("#gate-error")).to_contain_text("unknown or revoked API key")
    assert page.errors == []


def write_y4m(photo: Path, target: Path, frames: int = 5) -> Path:
    """A short Y4M video of one photo, for Chromium's fake webcam."""
    from PIL import Image

    image = Image.open(photo).convert("RGB")
    width, height = (image.width // 2) * 2, (image.height // 2) * 2
    y, cb, cr = image.crop((0, 0, width, height)).convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    target.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)
    return target


def test_enroll_from_the_webcam(playwright, service: tuple[str, str], shared_data: Path, tmp_path: Path) -> None:
    """Chromium's fake camera plays an LFW photo; the person enrolled from it is then verified by name."""
    from playwright import sync_api

    url, key = service
    video = write_y4m(Path(_photo(shared_data, "Hugo_Chavez", 1)), tmp_path / "webcam.y4m")
    camera = (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    browser_with_camera = launch(playwright, camera)
    try:
        page = browser_with_camera.new_page()  # type: ignore[attr-defined]
        page.set_default_timeout(30_000)
        page.goto(f"{url}/#key={key}")
        page.click("#webcam-start")
        page.wait_for_function("() => document.getElementById('webcam-video').videoWidth > 0")
        page.click("#webcam-snap")
        sync_api.expect(page.locator("#enroll-preview")).to_be_visible()
        sync_api.expect(page.locator("#webcam")).to_be_hidden()
        page.fill("#enroll-name", "Hugo from the webcam")
        page.click("#enroll-submit")
        sync_api.expect(page.locator("#enroll-ok")).to_have_text("Enrolled Hugo from the webcam.")
        page.click("nav a[data-page=check]")
        page.check("input[name=verify-mode][value=name]")
        page.select_option("#verify-name", "Hugo from the webcam")
        page.set_input_files("#verify-file", _photo(shared_data, "Hugo_Chavez", 2))
        page.click("#verify-submit")
        sync_api.expect(page.locator("#verify-result")).to_contain_text("Same person as Hugo from the webcam")
    finally:
        browser_with_camera.close()  # type: ignore[attr-defined]
