"""The Archive page end to end in headless Chromium against a real ``convapps serve`` on loopback.

Before any index exists the page says how to create one; once a (synthetic) archive is indexed it shows
the groups as cards of face crops, names a group from the keyboard (a duplicate name is refused in plain
words), opens the named person's photos with their faces outlined at the recorded boxes, and the person
is enrolled for recognition. Skipped (with the reason) only when no Chromium is installed
(``scripts/install-browser.sh`` installs it) or Playwright's Python package is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .archive_data import PEOPLE, build_archive
from .live_service import launch, live_service, playwright_session

ALL_LOADED = """sel => {
  const imgs = [...document.querySelectorAll(sel)];
  return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("archive-browser")


@pytest.fixture(scope="module")
def service(workdir: Path) -> Iterator[tuple[str, str]]:
    """A real service whose archive index (``workdir/archive.db``) does not exist yet."""
    with live_service(workdir, env={"CONVAPPS_ARCHIVE_INDEX": str(workdir / "archive.db")}) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_session() as session:
        launched = launch(session)
        yield launched
        launched.close()  # type: ignore[attr-defined]


def test_archive_page_names_a_group_and_shows_their_photos(browser, service: tuple[str, str], workdir: Path) -> None:
    from playwright.sync_api import expect

    url, key = service
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{url}/#key={key}")
    page.click("nav a[data-page=archive]")
    expect(page.locator("#page-archive")).to_be_visible()
    expect(page.locator("#archive-missing")).to_be_visible()  # no index yet: how to make one
    expect(page.locator("#archive-missing")).to_contain_text("No archive index yet")
    expect(page.locator("#archive-missing pre")).to_contain_text("convapps face index /path/to/photos")
    expect(page.locator("#archive-error")).to_be_hidden()
    assert not (workdir / "archive.db").exists()

    archive = build_archive(workdir / "photos")  # `convapps face index` + `cluster`, done by the library
    page.click("#archive-refresh")
    expect(page.locator("#archive-missing")).to_be_hidden()
    expect(page.locator("#archive-totals")).to_have_text(
        "7 photos · 10 faces · 3 groups of faces (0 named). 1 face not grouped yet: "
        "run “convapps face cluster” on the machine running the service."
    )
    cards = page.locator("#archive-groups .group-card")
    expect(cards).to_have_count(2)  # the one-face group is hidden until asked for
    expect(page.locator("#archive-shown")).to_have_text("Showing 2 of 2 groups, largest first.")
    expect(cards.nth(0).locator(".group-size")).to_have_text("5 faces")
    expect(cards.nth(1).locator(".group-size")).to_have_text("3 faces")
    expect(cards.locator(".group-name.unnamed")).to_have_count(2)
    page.wait_for_function(ALL_LOADED, arg="#archive-groups img.crop")
    assert page.locator("#archive-groups img.crop").count() == 4 + 3
    alt = page.locator(f".group-card[data-group='{archive.groups['b']}'] img.crop").first.get_attribute("alt")
    assert alt == f"unnamed group {archive.groups['b']}, face 1 of 3"
    crop_sizes = page.eval_on_selector_all("#archive-groups img.crop", "imgs => imgs.map(i => i.naturalWidth)")
    assert set(crop_sizes) == {128}

    page.check("#archive-singles")
    expect(cards).to_have_count(3)
    page.uncheck("#archive-singles")
    expect(cards).to_have_count(2)

    card_b = page.locator(f".group-card[data-group='{archive.groups['b']}']")
    box_b = card_b.get_by_label(re.compile(r"^Name for group \d+ \(3 faces\)$"))
    box_b.fill("Grace Hopper")
    box_b.press("Enter")
    expect(card_b.locator(".group-status")).to_have_text(
        "Named Grace Hopper and enrolled them for recognition from 3 faces."
    )
    expect(card_b.locator(".person-link")).to_have_text("Grace Hopper")
    expect(card_b.locator(".person-link")).to_be_focused()
    expect(page.locator("#archive-totals")).to_contain_text("(1 named)")

    card_a = page.locator(f".group-card[data-group='{archive.groups['a']}']")
    card_a.locator("input").fill("grace hopper")
    card_a.locator("button[type=submit]").click()
    status_a = card_a.locator(".group-status.error")
    expect(status_a).to_have_text(
        f"group {archive.groups['b']} is already named 'Grace Hopper'; if both groups are the same person, "
        f"merge them ('convapps face merge {archive.groups['b']} {archive.groups['a']}')"
    )
    expect(card_a.locator(".group-name.unnamed")).to_have_text("Unnamed")

    card_b.locator(".person-link").click()
    expect(page.locator("#archive-person")).to_be_visible()
    expect(page.locator("#archive-groups")).to_be_hidden()
    expect(page.locator("#archive-person-title")).to_have_text("Photos of Grace Hopper")
    expect(page.locator("#archive-person-count")).to_have_text("Grace Hopper appears in 3 photos.")
    photos = page.locator("#archive-photos .archive-photo")
    expect(photos).to_have_count(3)
    page.wait_for_function(ALL_LOADED, arg="#archive-photos img")
    expect(page.locator("#archive-photos .face-box")).to_have_count(3)
    want = {f"photo{photo}.png": box for photo, box in PEOPLE["b"]}
    for i in range(3):
        item = photos.nth(i)
        name = item.locator("figcaption").inner_text()
        img = item.locator("img").bounding_box()
        drawn = item.locator(".face-box").bounding_box()
        assert img and drawn and img["width"] > 100
        assert item.locator("img").evaluate("i => [i.naturalWidth, i.naturalHeight]") == [400, 300]
        left, top, right, bottom = want[name]
        scale = img["width"] / 400
        assert abs(drawn["x"] - img["x"] - left * scale) < 2 and abs(drawn["y"] - img["y"] - top * scale) < 2
        assert abs(drawn["width"] - (right - left) * scale) < 2 and abs(drawn["height"] - (bottom - top) * scale) < 2
        alt = item.locator("img").get_attribute("alt") or ""
        assert alt.startswith(f"Photo {i + 1} of 3 with Grace Hopper (1 face outlined): {name}")

    page.click("#archive-person-close")
    expect(page.locator("#archive-person")).to_be_hidden()
    expect(card_b.locator(".person-link")).to_be_focused()

    page.click("nav a[data-page=people]")  # enrolled for recognition from the group's faces
    expect(page.locator("#people-list")).to_contain_text("Grace Hopper")
    expect(page.locator("#people-list li[data-id]").filter(has_text="Grace Hopper")).to_contain_text("3 encodings")
    page.click("nav a[data-page=archive]")  # the name is kept
    expect(page.locator(f".group-card[data-group='{archive.groups['b']}'] .person-link")).to_have_text("Grace Hopper")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than the screen
    page.check("#archive-singles")
    expect(cards).to_have_count(3)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.locator(".person-link").first.click()
    page.wait_for_function(ALL_LOADED, arg="#archive-photos img")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert errors == []
    context.close()
