"""Naming an archive group and enrolling the person: the gallery's name rules are checked before the
group is named, so a refused name leaves both the archive index and the gallery as they were. Face crops
(contact sheet and web page alike) show the box and a quarter of its longer side around it, inside the photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convapps.errors import InvalidInputError, NotFoundError
from convapps.face.archive.people import contact_sheet, crop_region, find_by_face, name_group
from convapps.gallery import EmbeddingSpace, open_archive_index, open_gallery
from convapps.gallery.archive_base import NewFaces, PhotoRecord

SPACE = EmbeddingSpace("test-encoder-v1", 16, "squared_l2")


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, SPACE.dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_a_look_alike_of_an_enrolled_name_is_refused_before_anything_changes(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    with (
        open_archive_index(tmp_path / "a.db", space=SPACE) as index,
        open_gallery(tmp_path / "g.db", space=SPACE) as gallery,
    ):
        centre = _unit(rng, 1)[0]
        faces = centre + 0.01 * _unit(rng, 3)
        index.put_photos(
            [(PhotoRecord(f"{i}.jpg", "h", 1, 1), NewFaces([(0, 0, 9, 9)], [1.0], faces[i : i + 1])) for i in range(3)]
        )
        ids, _ = index.face_encodings()
        index.assign_groups(ids, [0, 0, 0])
        [group] = index.groups()
        gallery.enroll("Ada Lovelace", _unit(rng, 1))
        with pytest.raises(InvalidInputError):
            name_group(index, str(group.id), "Ada Lovel\u0430ce", gallery=gallery)  # Cyrillic a: a look-alike
        assert index.groups()[0].name is None and gallery.names() == ["Ada Lovelace"]
        assert len(gallery.encodings_of("Ada Lovelace")) == 1
        # the very name enrolled adds the group's faces to that person
        person = name_group(index, str(group.id), "Ada Lovelace", gallery=gallery)
        assert person is not None and person.name == "Ada Lovelace"
        assert index.groups()[0].name == "Ada Lovelace" and len(gallery.encodings_of("Ada Lovelace")) == 4
        # a face photo finds the photos of its group, nearest first
        hits = find_by_face(index, centre, tau=0.01)
        assert sorted(h.photo for h in hits) == ["0.jpg", "1.jpg", "2.jpg"]
        assert [h.distance for h in hits] == sorted(h.distance for h in hits)
        assert find_by_face(index, -centre, tau=0.01) == []


def test_crop_region_pads_a_quarter_of_the_longer_side_inside_the_photo() -> None:
    assert crop_region((40, 40, 80, 100), 200, 200) == (25, 25, 95, 115)  # 60 px tall: 15 px each side
    assert crop_region((0, 5, 40, 45), 50, 50) == (0, 0, 50, 50)  # clipped at every edge
    with pytest.raises(NotFoundError, match="outside its photo"):
        crop_region((300, 300, 340, 340), 200, 200)


def test_contact_sheet_crops_each_face_and_reports_a_box_outside_its_photo(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    photo = tmp_path / "p.png"
    pixels = np.zeros((120, 160, 3), np.uint8)
    pixels[40:80, 60:100] = 255  # the "face": a white square
    Image.fromarray(pixels).save(photo)
    with open_archive_index(tmp_path / "a.db", space=SPACE) as index:
        boxes = [(60, 40, 100, 80), (500, 500, 540, 540)]  # the second lies outside the 160 x 120 photo
        index.put_photos([(PhotoRecord(str(photo), "h", 160, 120), NewFaces(boxes, [1.0, 1.0], _unit(rng, 2)))])
        ids, _ = index.face_encodings()
        index.assign_groups(ids, [0, 0])
        [group] = index.groups()
        page = contact_sheet(index, str(group.id), tmp_path / "sheet.html", size=30).read_text()
    assert page.count("<img ") == 1 and 'width="30" height="30"' in page  # 60 x 60 region shrunk to 30 x 30
    assert page.count('class="missing"') == 1 and "lies outside its photo" in page
