"""The Archive API over a small synthetic archive index (made with the library, no face model needed):
groups largest first with totals, a group's faces, face crops cut at the recorded boxes, downscaled
photos, naming (which enrolls the person in the service's gallery), merging, a person's photos, photos
that left the archive, paths that can never be read, keys, and a service without an index yet."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from convapps.gallery import open_archive_index, open_gallery
from convapps.gallery.archive_base import ArchiveIndex, NewFaces
from convapps.web.app import create_app
from convapps.web.keys import KeyStore
from convapps.web.settings import WebSettings

from .archive_data import COLOURS, LONER_COLOUR, SPACE, Archive, Box, build_archive, make_photo, record

BASE_URL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("archive") / "photos")


@pytest.fixture(scope="module")
def service_settings(archive: Archive) -> WebSettings:
    state = archive.index_path.parent / "state"
    return WebSettings(
        state_dir=state, gallery=f"sqlite:///{state / 'gallery.db'}", archive_index=str(archive.index_path)
    )


@pytest.fixture(scope="module")
def headers(service_settings: WebSettings) -> dict[str, str]:
    return {"Authorization": f"Bearer {KeyStore(service_settings.keys_path).create('archive-tests')[1]}"}


@pytest.fixture(scope="module")
def desk(service_settings: WebSettings) -> Iterator[TestClient]:
    with TestClient(create_app(service_settings), base_url=BASE_URL, raise_server_exceptions=False) as client:
        yield client


def jpeg(response: object) -> Image.Image:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "image/jpeg"  # type: ignore[attr-defined]
    image = Image.open(io.BytesIO(response.content))  # type: ignore[attr-defined]
    assert image.format == "JPEG"
    return image.convert("RGB")


def expected_crop(photo: Path, box: Box, size: int) -> np.ndarray:
    """The documented crop, cut with PIL: the box and a quarter of its longer side around it, kept inside
    the photo, scaled so that its longer side is ``size``."""
    image = Image.open(photo).convert("RGB")
    left, top, right, bottom = box
    pad = max(right - left, bottom - top) // 4
    region = (max(0, left - pad), max(0, top - pad), min(image.width, right + pad), min(image.height, bottom + pad))
    cut = image.crop(region)
    scale = size / max(cut.size)
    return np.asarray(cut.resize((round(cut.width * scale), round(cut.height * scale)), Image.Resampling.LANCZOS))


def mean_rgb(pixels: np.ndarray | Image.Image) -> np.ndarray:
    return np.asarray(pixels, dtype=np.float64).reshape(-1, 3).mean(axis=0)


def groups(desk: TestClient, headers: dict[str, str], **params: int) -> dict[str, object]:
    response = desk.get("/api/archive/groups", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_groups_largest_first_with_totals_and_paging(
    desk: TestClient, headers: dict[str, str], archive: Archive
) -> None:
    body = groups(desk, headers)
    assert body["totals"] == {"photos": 7, "faces": 10, "groups": 3, "named": 0, "ungrouped": 1}
    listed = body["groups"]
    assert [g["size"] for g in listed] == [5, 3, 1] and body["count"] == 3 and body["total"] == 3
    assert [g["id"] for g in listed] == [archive.groups["a"], archive.groups["b"], archive.groups["c"]]
    assert all(g["name"] is None for g in listed)
    for group, person in zip(listed, "abc", strict=True):
        ids = {f for f, _, _ in archive.faces[person]}
        assert group["representative"] in ids and group["sample"][0] == group["representative"]
        assert len(group["sample"]) == min(4, len(ids)) == len(set(group["sample"])) and set(group["sample"]) <= ids

    page = groups(desk, headers, offset=1, limit=1)
    assert [g["id"] for g in page["groups"]] == [archive.groups["b"]] and page["total"] == 3 and page["count"] == 1
    bigger = groups(desk, headers, min_size=2)
    assert [g["size"] for g in bigger["groups"]] == [5, 3] and bigger["total"] == 2 and bigger["min_size"] == 2
    assert groups(desk, headers, offset=10)["groups"] == []
    assert desk.get("/api/archive/groups", headers=headers, params={"limit": 0}).status_code == 422


def test_group_faces(desk: TestClient, headers: dict[str, str], archive: Archive) -> None:
    response = desk.get(f"/api/archive/groups/{archive.groups['b']}/faces", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["group"]["id"] == archive.groups["b"] and body["total"] == 3 == body["count"]
    expected = sorted((str(p), list(b)) for _, p, b in archive.faces["b"])
    got = [(f["photo"], [f["box"][k] for k in ("left", "top", "right", "bottom")]) for f in body["faces"]]
    assert got == expected  # ordered by photo
    assert {f["id"] for f in body["faces"]} == {f for f, _, _ in archive.faces["b"]}
    second = desk.get(f"/api/archive/groups/{archive.groups['b']}/faces?offset=1&limit=1", headers=headers).json()
    assert second["faces"] == body["faces"][1:2] and second["total"] == 3
    missing = desk.get("/api/archive/groups/999/faces", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "NotFoundError"
    assert "no group 999" in missing.json()["error"]["message"]


def test_crops_are_the_recorded_boxes(desk: TestClient, headers: dict[str, str], archive: Archive) -> None:
    for person in "abc":
        for face_id, photo, box in archive.faces[person]:
            if face_id == archive.big_face:
                continue
            crop = jpeg(desk.get(f"/api/archive/faces/{face_id}/crop", headers=headers, params={"size": 96}))
            want = expected_crop(photo, box, 96)
            assert crop.size == (want.shape[1], want.shape[0]) and max(crop.size) == 96
            assert np.abs(mean_rgb(crop) - mean_rgb(want)).max() < 4, (person, face_id)
            centre = np.asarray(crop)[
                crop.height // 2 - 5 : crop.height // 2 + 5, crop.width // 2 - 5 : crop.width // 2 + 5
            ]
            assert np.abs(mean_rgb(centre) - np.array(COLOURS[person])).max() < 8  # the person's face, not another
    loner = jpeg(desk.get(f"/api/archive/faces/{archive.ungrouped_face}/crop", headers=headers, params={"size": 32}))
    assert max(loner.size) == 32  # a face not grouped yet has its crop too
    assert np.abs(mean_rgb(np.asarray(loner)[12:20, 12:20]) - np.array(LONER_COLOUR)).max() < 10


def test_crop_of_a_large_photo_is_decoded_small_and_still_right(
    desk: TestClient, headers: dict[str, str], archive: Archive
) -> None:
    crop = jpeg(desk.get(f"/api/archive/faces/{archive.big_face}/crop", headers=headers, params={"size": 64}))
    want = expected_crop(archive.photos[5], (1500, 900, 1800, 1200), 64)
    assert crop.size == (64, 64) == (want.shape[1], want.shape[0])
    assert np.abs(mean_rgb(crop) - mean_rgb(want)).max() < 4
    assert np.abs(mean_rgb(np.asarray(crop)[24:40, 24:40]) - np.array(COLOURS["a"])).max() < 8


def test_crop_cache_headers_and_size_bounds(desk: TestClient, headers: dict[str, str], archive: Archive) -> None:
    face = archive.faces["a"][0][0]
    first = desk.get(f"/api/archive/faces/{face}/crop", headers=headers)
    assert first.status_code == 200 and max(jpeg(first).size) == 160  # the default size
    assert first.headers["cache-control"] == "private, max-age=86400" and first.headers["etag"]
    again = desk.get(f"/api/archive/faces/{face}/crop", headers={**headers, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    other_size = desk.get(f"/api/archive/faces/{face}/crop?size=64", headers=headers)
    assert other_size.headers["etag"] != first.headers["etag"]
    for size in (0, 31, 513, 100000):
        refused = desk.get(f"/api/archive/faces/{face}/crop", headers=headers, params={"size": size})
        assert refused.status_code == 422 and refused.json()["error"]["type"] == "ValidationError"
    assert desk.head(f"/api/archive/faces/{face}/crop", headers=headers).status_code == 200


def test_whole_photo_downscaled(desk: TestClient, headers: dict[str, str], archive: Archive) -> None:
    face, photo, _ = next(f for f in archive.faces["a"] if f[1] == archive.photos[0])
    small = jpeg(desk.get(f"/api/archive/photos/{face}/image", headers=headers, params={"max_side": 200}))
    assert small.size == (200, 150)
    want = np.asarray(Image.open(photo).convert("RGB").resize((200, 150), Image.Resampling.LANCZOS))
    assert np.abs(mean_rgb(small) - mean_rgb(want)).max() < 3
    whole = jpeg(desk.get(f"/api/archive/photos/{face}/image", headers=headers, params={"max_side": 2048}))
    assert whole.size == (400, 300)  # never upsized
    big = jpeg(desk.get(f"/api/archive/photos/{archive.big_face}/image", headers=headers))
    assert big.size == (1024, 768)  # the default max_side
    assert desk.get(f"/api/archive/photos/{face}/image?max_side=4096", headers=headers).status_code == 422


def test_paths_outside_the_index_are_never_read(desk: TestClient, headers: dict[str, str], tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    Image.new("RGB", (50, 50), "white").save(secret)
    for path in (
        "/api/archive/faces/..%2F..%2F..%2Fetc%2Fpasswd/crop",
        f"/api/archive/faces/{quote(str(secret), safe='')}/crop",
        "/api/archive/faces/-1/crop",
        "/api/archive/faces/999999/crop",
        "/api/archive/faces/1.5/crop",
        "/api/archive/faces/1%2F..%2F2/crop",
        f"/api/archive/photos/{quote(str(secret), safe='')}/image",
        "/api/archive/photos/..%2F..%2Fetc%2Fpasswd/image",
        "/api/archive/photos/0/image?path=/etc/passwd",
        "/api/archive/people/..%2F..%2Fetc%2Fpasswd/photos",
        f"/api/archive/people/{quote(str(secret), safe='')}/photos",
    ):
        response = desk.get(path, headers=headers)
        assert response.status_code in (404, 422), (path, response.status_code)
        assert response.headers["content-type"] == "application/json", path
        assert set(response.json()["error"]) == {"type", "message", "status"}
        assert str(tmp_path) not in response.text and "root:" not in response.text


def test_keys_are_required(desk: TestClient, headers: dict[str, str], archive: Archive) -> None:
    face, group = archive.faces["a"][0][0], archive.groups["a"]
    gets = [
        "/api/archive/groups",
        f"/api/archive/groups/{group}/faces",
        f"/api/archive/faces/{face}/crop",
        f"/api/archive/photos/{face}/image",
        "/api/archive/people/Ada/photos",
    ]
    for path in gets:
        for bad in ({}, {"Authorization": "Bearer cvk_000000000000_not-a-key"}):
            response = desk.get(path, headers=bad)
            assert response.status_code == 401 and response.json()["error"]["type"] == "AuthenticationError", path
    for path, body in (
        (f"/api/archive/groups/{group}/name", {"name": "Mallory"}),
        (f"/api/archive/groups/{group}/merge", {"others": [1]}),
    ):
        assert desk.post(path, json=body).status_code == 401
    assert groups(desk, headers)["totals"]["named"] == 0  # nothing was named by the refused calls


def test_name_a_group_enroll_it_and_find_their_photos(
    desk: TestClient, headers: dict[str, str], archive: Archive, service_settings: WebSettings
) -> None:
    group_a, group_b, group_c = archive.groups["a"], archive.groups["b"], archive.groups["c"]
    named = desk.post(f"/api/archive/groups/{group_a}/name", headers=headers, json={"name": "  Ada Lovelace "})
    assert named.status_code == 200, named.text
    body = named.json()
    assert body["group"]["name"] == "Ada Lovelace" and body["group"]["size"] == 5 and not body["added"]
    assert body["person"]["name"] == "Ada Lovelace" and body["person"]["n_encodings"] == 5
    assert body["message"] == "Named Ada Lovelace and enrolled them for recognition from 5 faces."

    people = desk.get("/api/people", headers=headers).json()["people"]
    assert [(p["name"], p["n_encodings"]) for p in people] == [("Ada Lovelace", 5)]
    listed = groups(desk, headers)
    assert [g["name"] for g in listed["groups"]] == ["Ada Lovelace", None, None] and listed["totals"]["named"] == 1
    with open_archive_index(archive.index_path, space=SPACE, create=False) as index:
        stored = {f.id: f.embedding for f in index.faces(group=group_a, with_encodings=True)}
    with open_gallery(service_settings.gallery_url, space=SPACE, create=False) as gallery:
        enrolled = gallery.encodings_of("Ada Lovelace")
    assert sorted(map(tuple, enrolled.tolist())) == sorted(tuple(e.tolist()) for e in stored.values())

    for group, name, status, kind in (
        (group_b, "ada lovelace", 409, "ConflictError"),  # another group's name, up to case
        (group_b, "Аda Lovelace", 409, "ConflictError"),  # a Cyrillic A: a look-alike of it
        (group_a, "Ada Byron", 409, "ConflictError"),  # already named
        (group_b, "   ", 422, "InvalidInputError"),
        (group_b, "Eve\u202e", 422, "InvalidInputError"),
        (999, "Nobody", 404, "NotFoundError"),
    ):
        refused = desk.post(f"/api/archive/groups/{group}/name", headers=headers, json={"name": name})
        assert (refused.status_code, refused.json()["error"]["type"]) == (status, kind), (name, refused.text)
        assert refused.json()["error"]["message"] and "\n" not in refused.json()["error"]["message"]
    assert desk.post(f"/api/archive/groups/{group_b}/name", headers=headers, json={"name": ""}).status_code == 422
    assert desk.post(f"/api/archive/groups/{group_b}/name", headers=headers, json={}).status_code == 422
    assert groups(desk, headers)["totals"]["named"] == 1  # no refused call named anything
    taken = desk.post(f"/api/archive/groups/{group_b}/name", headers=headers, json={"name": "ADA LOVELACE"})
    assert taken.json()["error"]["message"] == (
        f"group {group_a} is already named 'Ada Lovelace'; if both groups are the same person, merge them "
        f"('convapps face merge {group_a} {group_b}')"
    )

    with open_gallery(service_settings.gallery_url, space=SPACE) as gallery:  # enrolled from a photo before
        gallery.enroll("Grace Hopper", np.zeros((1, SPACE.dim), np.float32))
        gallery.enroll("Alan Turing", np.ones((1, SPACE.dim), np.float32))
    look_alike = desk.post(f"/api/archive/groups/{group_c}/name", headers=headers, json={"name": "ALAN TURING"})
    assert look_alike.status_code == 422 and look_alike.json()["error"]["type"] == "InvalidInputError"
    assert "too easily confused with 'Alan Turing'" in look_alike.json()["error"]["message"]  # and nothing changes
    assert groups(desk, headers)["totals"]["named"] == 1
    grace = desk.post(f"/api/archive/groups/{group_b}/name", headers=headers, json={"name": "Grace Hopper"})
    assert grace.status_code == 200 and grace.json()["added"] and grace.json()["person"]["n_encodings"] == 1 + 3
    assert "already enrolled" in grace.json()["message"]

    photos = desk.get("/api/archive/people/Ada%20Lovelace/photos", headers=headers)
    assert photos.status_code == 200
    body = photos.json()
    assert body["name"] == "Ada Lovelace" and body["group"] == group_a and body["total"] == 5 == body["count"]
    want = {str(p): [list(b)] for _, p, b in archive.faces["a"]}
    got = {p["photo"]: [[b[k] for k in ("left", "top", "right", "bottom")] for b in p["boxes"]] for p in body["photos"]}
    assert got == want
    sizes = {p["photo"]: (p["width"], p["height"]) for p in body["photos"]}
    assert sizes[str(archive.photos[5])] == (2400, 1800) and sizes[str(archive.photos[0])] == (400, 300)
    assert all(p["problem"] is None for p in body["photos"])
    faces_in = {f: str(p) for f, p, _ in archive.faces["a"]}
    assert all(faces_in[p["face"]] == p["photo"] for p in body["photos"])  # the reference is their face there
    paged = desk.get("/api/archive/people/ada lovelace/photos?offset=4&limit=3", headers=headers).json()
    assert paged["count"] == 1 and paged["total"] == 5 and paged["photos"] == body["photos"][4:]
    nobody = desk.get("/api/archive/people/Charles%20Babbage/photos", headers=headers)
    assert nobody.status_code == 404 and "Charles Babbage" in nobody.json()["error"]["message"]

    log = [json.loads(line) for line in service_settings.audit_path.read_text().splitlines()]
    names = [(r["details"].get("name"), r["outcome"]) for r in log if r["action"] == "archive-name"]
    assert (
        ("  Ada Lovelace ", "ok") in names and ("Grace Hopper", "ok") in names and ("ada lovelace", "refused") in names
    )
    ok = next(r for r in log if r["action"] == "archive-name" and r["outcome"] == "ok")
    assert ok["details"]["encodings"] == 5 and ok["key_name"] == "archive-tests"


def test_merge_groups(desk: TestClient, headers: dict[str, str], archive: Archive) -> None:
    group_a, group_b, group_c = archive.groups["a"], archive.groups["b"], archive.groups["c"]
    away = desk.post(f"/api/archive/groups/{group_c}/merge", headers=headers, json={"others": [group_b]})
    assert away.status_code == 409 and "Grace Hopper" in away.json()["error"]["message"]  # a named group stays
    two_names = desk.post(f"/api/archive/groups/{group_a}/merge", headers=headers, json={"others": [group_b]})
    assert two_names.status_code == 409
    assert (
        desk.post(f"/api/archive/groups/{group_b}/merge", headers=headers, json={"others": [group_b]}).status_code
        == 422
    )
    assert desk.post(f"/api/archive/groups/{group_b}/merge", headers=headers, json={"others": [998]}).status_code == 404
    assert desk.post(f"/api/archive/groups/{group_b}/merge", headers=headers, json={"others": []}).status_code == 422
    merged = desk.post(f"/api/archive/groups/{group_b}/merge", headers=headers, json={"others": [group_c]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["moved"] == 1 and merged.json()["group"]["size"] == 4
    assert merged.json()["group"]["name"] == "Grace Hopper"
    listed = groups(desk, headers)
    assert [(g["id"], g["size"]) for g in listed["groups"]] == [(group_a, 5), (group_b, 4)]
    assert listed["totals"]["groups"] == 2 and listed["totals"]["faces"] == 10


def test_photos_that_left_the_archive(desk: TestClient, headers: dict[str, str], archive: Archive) -> None:
    gone_face, gone_photo, _ = archive.faces["a"][1]
    changed_face, changed_photo, _ = archive.faces["a"][2]
    assert desk.get(f"/api/archive/faces/{gone_face}/crop", headers=headers).status_code == 200
    gone_photo.rename(gone_photo.with_suffix(".moved"))
    Image.new("RGB", (400, 300), "black").save(changed_photo)  # same path, other pixels
    os.utime(changed_photo, ns=(1, 1))
    for face, what in ((gone_face, "no longer where it was indexed"), (changed_face, "changed since it was indexed")):
        for path in (f"/api/archive/faces/{face}/crop", f"/api/archive/photos/{face}/image"):
            response = desk.get(path, headers=headers)
            assert response.status_code == 410, (path, response.text)
            error = response.json()["error"]
            assert (
                error["type"] == "PhotoGoneError"
                and what in error["message"]
                and "convapps face index" in error["message"]
            )
            assert str(archive.index_path.parent) not in error["message"]
    photos = desk.get("/api/archive/people/Ada Lovelace/photos", headers=headers).json()["photos"]
    problems = {p["photo"]: p["problem"] for p in photos}
    assert "no longer where it was indexed" in problems[str(gone_photo)]
    assert "changed since it was indexed" in problems[str(changed_photo)]
    assert sum(p is None for p in problems.values()) == 3
    assert all(p["width"] is None for p in photos if p["problem"])
    other = archive.faces["a"][0][0]
    assert desk.get(f"/api/archive/faces/{other}/crop", headers=headers).status_code == 200  # the rest still shows


def test_no_index_yet_then_one_appears(
    make_client: Callable[[WebSettings], TestClient], tmp_path: Path, auth: dict[str, str], settings: WebSettings
) -> None:
    from dataclasses import replace

    index_path = tmp_path / "later" / "archive.db"
    client = make_client(replace(settings, archive_index=f"sqlite:///{index_path}"))
    for method, path, body in (
        ("GET", "/api/archive/groups", None),
        ("GET", "/api/archive/groups/1/faces", None),
        ("GET", "/api/archive/faces/1/crop", None),
        ("GET", "/api/archive/people/Ada/photos", None),
        ("POST", "/api/archive/groups/1/name", {"name": "Ada"}),
    ):
        response = client.request(method, path, headers=auth, json=body)
        assert response.status_code == 404, (path, response.text)
        error = response.json()["error"]
        assert error["type"] == "ArchiveIndexMissingError" and "convapps face index FOLDER" in error["message"]
        assert str(tmp_path) not in error["message"]
    assert not index_path.exists()  # looking never creates an index
    assert client.get("/api/health").json()["status"] in ("ok", "degraded")

    folder = tmp_path / "later" / "photos"
    folder.mkdir(parents=True)
    photo = make_photo(folder / "one.png", [((10, 10, 60, 60), (200, 0, 0))])
    with open_archive_index(index_path, space=SPACE) as index:
        index.put_photos([(record(photo), NewFaces([(10, 10, 60, 60)], [0.9], np.ones((1, SPACE.dim), np.float32)))])
    body = client.get("/api/archive/groups", headers=auth).json()
    assert body["groups"] == [] and body["totals"] == {"photos": 1, "faces": 1, "groups": 0, "named": 0, "ungrouped": 1}
    with open_archive_index(index_path, space=SPACE, create=False) as index:  # `convapps face cluster` elsewhere
        cluster_all(index)
    body = client.get("/api/archive/groups", headers=auth).json()  # the service sees the change
    assert [g["size"] for g in body["groups"]] == [1] and body["totals"]["ungrouped"] == 0
    for leftover in index_path.parent.glob("archive.db*"):  # the index made anew while the service runs
        leftover.unlink()
    with open_archive_index(index_path, space=SPACE) as index:
        faces = NewFaces([(10, 10, 60, 60)] * 2, [0.9, 0.8], np.ones((2, SPACE.dim), np.float32))
        index.put_photos([(record(photo), faces)])
        cluster_all(index)
        body = client.get("/api/archive/groups", headers=auth).json()  # the new file is read, not the old one
        assert [g["size"] for g in body["groups"]] == [2] and body["totals"]["faces"] == 2
    for leftover in index_path.parent.glob("archive.db*"):
        leftover.unlink()
    gone = client.get("/api/archive/groups", headers=auth)
    assert gone.status_code == 404 and gone.json()["error"]["type"] == "ArchiveIndexMissingError"


def cluster_all(index: ArchiveIndex) -> None:
    ids, _ = index.face_encodings(unnamed_only=True)
    index.assign_groups(ids.tolist(), [0] * len(ids))
