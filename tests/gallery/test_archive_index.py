"""The archive index contract: photos stored whole with their faces, replaced without duplicates,
dropped with their faces; faces grouped, groups named (names unique, confusables refused), merged and
split; named groups survive re-clustering; a file of another kind or another encoder is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convapps.errors import (
    ConflictError,
    EmbeddingSpaceMismatchError,
    GalleryUnreadableError,
    InvalidInputError,
    NotFoundError,
)
from convapps.gallery import open_archive_index, open_gallery
from convapps.gallery.archive_base import ArchiveIndex, NewFaces, PhotoRecord

from .conftest import OTHER_SPACE, SPACE, unit


def _photo(path: str, n: int, rng: np.random.Generator, h: str = "h") -> tuple[PhotoRecord, NewFaces]:
    boxes = [(10 * i, 0, 10 * i + 9, 9) for i in range(n)]
    return PhotoRecord(path, h, 100, 1), NewFaces(boxes, [1.0] * n, unit(rng, n) if n else np.zeros((0, 16)))


@pytest.fixture
def index(tmp_path: Path) -> ArchiveIndex:
    with open_archive_index(tmp_path / "archive.db", space=SPACE) as opened:
        yield opened


def test_photos_are_stored_whole_and_replaced_without_duplicates(index: ArchiveIndex, rng: np.random.Generator) -> None:
    index.put_photos([_photo("a.jpg", 2, rng), _photo("b.jpg", 0, rng), _photo("c.jpg", 3, rng)])
    photos = index.photos()
    assert {p: r.n_faces for p, r in photos.items()} == {"a.jpg": 2, "b.jpg": 0, "c.jpg": 3}
    index.put_photos([_photo("a.jpg", 1, rng, h="new")])  # the photo changed: its faces are replaced
    assert index.photos()["a.jpg"].content_hash == "new"
    assert [f.photo for f in index.faces()] == ["a.jpg", "c.jpg", "c.jpg", "c.jpg"]
    ids, emb = index.face_encodings()
    assert len(ids) == 4 and emb.shape == (4, 16) and emb.dtype == np.float32
    assert index.drop_photos(["c.jpg", "missing.jpg"]) == 1
    assert [f.photo for f in index.faces()] == ["a.jpg"] and set(index.photos()) == {"a.jpg", "b.jpg"}
    index.put_photos([(PhotoRecord("bad.jpg", "", 3, 1, error="not an image"), NewFaces.none(16))])
    assert index.photos()["bad.jpg"].error == "not an image"


def test_groups_named_merged_split_and_kept(index: ArchiveIndex, rng: np.random.Generator) -> None:
    index.put_photos([_photo(f"{i}.jpg", 2, rng) for i in range(3)])
    ids, _ = index.face_encodings()
    assert index.assign_groups(ids, [0, 0, 0, 1, 1, 2]) == 3
    groups = index.groups()
    assert [g.size for g in groups] == [3, 2, 1] and all(g.name is None for g in groups)
    big = groups[0]
    assert big.representative is not None and big.representative.group == big.id
    index.name_group(big.id, "  Ada Lovelace ")
    assert index.group_of_name("ada lovelace") == big.id and index.groups()[0].name == "Ada Lovelace"
    with pytest.raises(ConflictError, match="already named"):
        index.name_group(groups[1].id, "ADA LOVELACE")
    with pytest.raises(InvalidInputError):
        index.name_group(groups[1].id, "\u202eevil")
    with pytest.raises(NotFoundError, match="no group 999"):
        index.name_group(999, "Bob")
    # re-clustering touches only the unnamed faces; the named group keeps its faces
    unnamed, _ = index.face_encodings(unnamed_only=True)
    assert len(unnamed) == 3
    with pytest.raises(ConflictError, match="named group"):
        index.assign_groups(ids, [0] * 6)
    index.assign_groups(unnamed, [5, 5, 5])
    assert [(g.size, g.name) for g in index.groups()] == [(3, "Ada Lovelace"), (3, None)]
    other = index.groups()[1].id
    assert index.merge_groups(big.id, [other]) == 3
    assert [(g.size, g.name) for g in index.groups()] == [(6, "Ada Lovelace")]
    new = index.split_faces([int(ids[0]), int(ids[1])])
    assert sorted((g.size, g.id == new) for g in index.groups()) == [(2, True), (4, False)]
    assert [f.id for f in index.faces(group=new)] == [int(ids[0]), int(ids[1])]


def test_bad_faces_and_wrong_files(index: ArchiveIndex, tmp_path: Path, rng: np.random.Generator) -> None:
    with pytest.raises(InvalidInputError, match="one of each"):
        index.put_photos([(PhotoRecord("x.jpg", "h", 1, 1), NewFaces([(0, 0, 9, 9)], [], unit(rng, 1)))])
    with pytest.raises(InvalidInputError, match="bad face box"):
        index.put_photos([(PhotoRecord("x.jpg", "h", 1, 1), NewFaces([(9, 0, 0, 9)], [1.0], unit(rng, 1)))])
    with pytest.raises(InvalidInputError, match=r"\(N, 16\)"):
        index.put_photos([(PhotoRecord("x.jpg", "h", 1, 1), NewFaces([(0, 0, 9, 9)], [1.0], unit(rng, 1, 8)))])
    assert index.photos() == {}
    index.close()
    with pytest.raises(EmbeddingSpaceMismatchError):
        open_archive_index(tmp_path / "archive.db", space=OTHER_SPACE)
    with open_gallery(tmp_path / "people.db", space=SPACE) as gallery:
        gallery.enroll("Ada", unit(rng, 1))
    with pytest.raises(GalleryUnreadableError, match="not a convapps archive index"):
        open_archive_index(tmp_path / "people.db", space=SPACE)
    (tmp_path / "text.db").write_text("hello")
    with pytest.raises(GalleryUnreadableError):
        open_archive_index(tmp_path / "text.db", space=SPACE)
    with pytest.raises(GalleryUnreadableError, match="no archive index"):
        open_archive_index(tmp_path / "none.db", space=SPACE, create=False)
