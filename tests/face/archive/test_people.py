"""Naming an archive group and enrolling the person: the gallery's name rules are checked before the
group is named, so a refused name leaves both the archive index and the gallery as they were."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convapps.errors import InvalidInputError
from convapps.face.archive.people import find_by_face, name_group
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
