"""First use in headless Chromium: phone-sized pages, long and emoji names, limits from the API,
people search and paging, shipped paintings, and a running job that survives a reload.

The service runs as ``convapps serve --first-run`` over a gallery seeded with 400 people (random
encodings, far from any real face) plus, through the API, one real person with a very long name.
Set ``CONVAPPS_SCREENSHOTS=/some/dir`` to keep screenshots of each page at 390 and 1280 px.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from .live_service import chromium, lfw_photo, live_service

pytestmark = pytest.mark.shared_data

SHOTS = os.environ.get("CONVAPPS_SCREENSHOTS")
LONG_NAME = "Colin" + "Powell" * 30  # one unbroken word, 185 characters
EMOJI_NAMES = ("🦊 Fox Mulder", "👩🏽 Ada")
N_SEEDED = 400
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def seed_gallery(path: Path) -> None:
    from convapps.gallery import open_gallery
    from convapps.models.registry import get_network

    rng = np.random.default_rng(0)
    names = [f"Person {i:03d}" for i in range(N_SEEDED)] + list(EMOJI_NAMES)
    with open_gallery(f"sqlite:///{path}", space=get_network("dlib-resnet").space) as gallery:
        gallery.enroll_many((name, rng.normal(size=(1, 128)), None) for name in names)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("first-use-service")
    seed_gallery(tmp / "gallery.db")
    with live_service(tmp) as (url, key):
        photo = lfw_photo(shared_data, "Colin_Powell", 1).read_bytes()
        enrolled = httpx.post(
            f"{url}/api/people",
            headers={"X-API-Key": key},
            data={"name": LONG_NAME},
            files={"photo": ("p.jpg", photo)},
            timeout=60,
        )
        assert enrolled.status_code == 201, enrolled.text
        yield url, key


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def open_page(browser: object, service: tuple[str, str]) -> Iterator[object]:
    """``open_page(viewport, hash)``: a signed-in tab on a page; JavaScript errors land in ``tab.errors``."""
    contexts: list[object] = []
    url, key = service

    def open_(viewport: dict[str, int], page: str) -> object:
        context = browser.new_context(viewport=viewport)  # type: ignore[attr-defined]
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        tab.errors = []
        tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        tab.goto(f"{url}/#key={key}")
        tab.wait_for_selector("#page-people:not([hidden])")
        tab.goto(f"{url}/#{page}")
        tab.wait_for_selector(f"#page-{page}:not([hidden])")
        return tab

    yield open_
    for context in contexts:
        context.close()  # type: ignore[attr-defined]


def page_width(tab: object) -> int:
    return int(tab.evaluate("() => document.documentElement.scrollWidth"))  # type: ignore[attr-defined]


def shot(tab: object, name: str) -> None:
    if SHOTS:
        tab.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_no_page_is_wider_than_the_screen(open_page, viewport: dict[str, int], shared_data: Path) -> None:
    from playwright.sync_api import expect

    width = viewport["width"]
    for name in ("people", "style", "viz"):
        tab = open_page(viewport, name)
        if name == "people":
            expect(tab.locator("#people-list")).to_contain_text(LONG_NAME)
        assert page_width(tab) <= width, name
        shot(tab, f"{name}-{width}")
        assert tab.errors == []
    tab = open_page(viewport, "check")
    tab.check("input[name=verify-mode][value=name]")
    tab.select_option("#verify-name", LONG_NAME)  # the long name is in the list, and selected
    tab.set_input_files("#identify-file", str(lfw_photo(shared_data, "Colin_Powell", 2)))
    tab.click("#identify-submit")
    expect(tab.locator("#identify-faces li .sentence")).to_contain_text(LONG_NAME)
    assert page_width(tab) <= width
    shot(tab, f"check-{width}")
    assert tab.errors == []


def test_labels_on_photos_stay_inside_the_photo(open_page) -> None:
    tab = open_page(PHONE, "check")
    placed = tab.evaluate(
        """async () => {
          const { fitText, labelBox } = await import('/static/js/check.js');
          const ctx = document.createElement('canvas').getContext('2d');
          ctx.font = '600 12px sans-serif';
          const label = fitText(ctx, 'x'.repeat(300), 250 - 8);
          return {
            right: labelBox({ left: 200, top: 60, right: 249, bottom: 120 }, 120, 18, 250, 250),
            top: labelBox({ left: 10, top: 5, right: 80, bottom: 240 }, 60, 18, 250, 250),
            wide: labelBox({ left: 30, top: 40, right: 90, bottom: 100 }, 400, 18, 250, 250),
            cut: [label.endsWith('…'), ctx.measureText(label).width <= 242, label.length > 10],
          };
        }"""
    )
    assert placed["right"] == {"x": 130, "y": 42, "w": 120, "h": 18}  # shifted left, above the box
    assert placed["top"] == {"x": 10, "y": 5, "w": 60, "h": 18}  # no room above or below: inside the top
    assert placed["wide"]["x"] == 0 and placed["wide"]["w"] == 250
    assert placed["cut"] == [True, True, True]


def test_emoji_names_get_whole_initials(open_page) -> None:
    from playwright.sync_api import expect

    tab = open_page(PHONE, "people")
    tab.fill("#people-search", "fox")
    expect(tab.locator("#people-list li")).to_have_count(1)
    expect(tab.locator("#people-list li .avatar")).to_have_text("🦊F")
    tab.fill("#people-search", "ada")
    expect(tab.locator("#people-list li .avatar")).to_have_text("👩🏽A")  # the skin tone stays with its emoji
    assert tab.errors == []


def test_people_search_and_paging(open_page) -> None:
    from playwright.sync_api import expect

    tab = open_page(DESKTOP, "people")
    total = N_SEEDED + len(EMOJI_NAMES) + 1
    expect(tab.locator("#people-count")).to_have_text(f"({total})")
    expect(tab.locator("#people-list li")).to_have_count(50)
    expect(tab.locator("#people-range")).to_have_text(f"1–50 of {total}")
    expect(tab.locator("#people-prev")).to_be_disabled()
    tab.click("#people-next")
    expect(tab.locator("#people-range")).to_have_text(f"51–100 of {total}")
    expect(tab.locator("#people-list li").first).to_contain_text(
        "Person 049"
    )  # sorted by name: the long Colin... name comes first
    tab.fill("#people-search", "PERSON 12")
    expect(tab.locator("#people-list li")).to_have_count(10)
    expect(tab.locator("#people-paging")).to_be_hidden()
    expect(tab.locator("#people-count")).to_have_text("(10)")
    tab.fill("#people-search", "nobody by this name")
    expect(tab.locator("#people-empty")).to_have_text("Nobody enrolled matches “nobody by this name”.")
    expect(tab.locator("#people-list li")).to_have_count(0)
    assert tab.errors == []


def test_style_inputs_take_their_limits_from_the_api(open_page, service: tuple[str, str]) -> None:
    url, key = service
    limits = httpx.get(f"{url}/api/style/options", headers={"X-API-Key": key}).json()["limits"]
    tab = open_page(DESKTOP, "style")
    tab.wait_for_function("() => document.getElementById('style-steps').max !== ''")
    steps = tab.eval_on_selector("#style-steps", "i => [i.min, i.max]")
    size = tab.eval_on_selector("#style-size", "i => [i.min, i.max]")
    assert steps == ["1", str(limits["steps"]["max"])] == ["1", "1000"]
    assert size == [str(limits["size"]["min"]), str(limits["size"]["max"])]
    tab.click("#style-form details summary")
    tab.fill("#style-steps", "2000")
    assert tab.eval_on_selector("#style-steps", "i => i.checkValidity()") is False
    tab.fill("#style-steps", "1000")
    assert tab.eval_on_selector("#style-steps", "i => i.checkValidity()") is True
    assert tab.errors == []


def test_a_running_job_is_shown_again_after_a_reload(open_page, service: tuple[str, str], shared_data: Path) -> None:
    from playwright.sync_api import expect

    url, key = service
    tab = open_page(DESKTOP, "style")
    tab.set_input_files("#style-content", str(shared_data / "style" / "photos" / "tubingen.jpg"))
    expect(tab.locator("#style-content-preview")).to_be_visible()  # the content photo before starting
    tab.click("#style-samples button[data-sample=swirl]")  # a shipped painting, one click
    expect(tab.locator("#style-samples button[data-sample=swirl]")).to_have_attribute("aria-pressed", "true")
    tab.click("#style-form details summary")
    tab.fill("#style-size", "64")
    tab.fill("#style-steps", "1000")
    tab.click("#style-submit")
    expect(tab.locator("#style-job")).to_be_visible()
    jobs = httpx.get(f"{url}/api/jobs", headers={"X-API-Key": key}).json()
    assert jobs[0]["kind"] == "style" and jobs[0]["params"]["styles"] == 1
    try:
        tab.reload()
        tab.wait_for_selector("#page-style:not([hidden])")
        expect(tab.locator("#style-job")).to_be_visible()
        expect(tab.locator("#style-status")).to_have_text(re.compile(r"^(Waiting for a free worker…|\d+% · .+)$"))
        expect(tab.locator(f"#style-jobs li[data-job='{jobs[0]['id']}']")).to_have_count(1)
        tab.click("#style-cancel")  # a job still loading its network stops at its first step
        expect(tab.locator("#style-status")).to_have_text("Cancelled.", timeout=60_000)
    finally:
        httpx.delete(f"{url}/api/jobs/{jobs[0]['id']}", headers={"X-API-Key": key})
    assert tab.errors == []
