"""The archive index contract, on SQLite, Milvus Lite and a real Milvus server: photos stored whole with
their faces, replaced without duplicates, dropped with their faces; faces grouped, groups named (names
unique, confusables refused), merged and split; named groups survive re-clustering; face ids never
reused; an index of another encoder is refused. Then what is Milvus' own: a write killed between its
steps leaves no visible face and no duplicate after the re-index, more faces than one Milvus query
returns are read back whole, a gallery shares a server database with an archive, a dead server is one
quick error; and SQLite's own refusals of files of another kind."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import (
    ConflictError,
    EmbeddingSpaceMismatchError,
    GalleryUnavailableError,
    GalleryUnreadableError,
    InvalidInputError,
    NotFoundError,
)
from convapps.gallery import open_archive_index, open_gallery
from convapps.gallery.archive_base import ArchiveIndex, NewFaces, PhotoRecord
from convapps.gallery.archive_milvus import FACES, META, PHOTOS, MilvusArchiveIndex

from .conftest import OTHER_SPACE, SERVER, SPACE, gallery_url, unit

ARCHIVE_BACKENDS = ["sqlite", "milvus", "milvus-server"]
OpenIndex = Callable[..., ArchiveIndex]


def _photo(path: str, n: int, rng: np.random.Generator, h: str = "h") -> tuple[PhotoRecord, NewFaces]:
    boxes = [(10 * i, 0, 10 * i + 9, 9) for i in range(n)]
    return PhotoRecord(path, h, 100, 1), NewFaces(boxes, [1.0] * n, unit(rng, n) if n else np.zeros((0, 16)))


@pytest.fixture(params=ARCHIVE_BACKENDS)
def archive_backend(request: pytest.FixtureRequest) -> str:
    if request.param == "milvus-server":
        SERVER["address"] = request.getfixturevalue("milvus_server")
    return str(request.param)


@pytest.fixture
def open_index(archive_backend: str, tmp_path: Path) -> Iterator[OpenIndex]:
    """Factory opening this test's archive index (``name`` picks another one); all closed at teardown."""
    opened: list[ArchiveIndex] = []

    def _open(name: str = "archive", **kwargs: object) -> ArchiveIndex:
        kwargs.setdefault("space", SPACE)
        index = open_archive_index(gallery_url(archive_backend, tmp_path, name), **kwargs)  # type: ignore[arg-type]
        opened.append(index)
        return index

    yield _open
    for index in opened:
        index.close()


@pytest.fixture
def index(open_index: OpenIndex) -> ArchiveIndex:
    return open_index()


@pytest.fixture
def server_index(milvus_server: str, tmp_path: Path) -> Iterator[MilvusArchiveIndex]:
    """An archive index on the Milvus server, in this test's own database."""
    SERVER["address"] = milvus_server
    opened = open_archive_index(gallery_url("milvus-server", tmp_path, "archive"), space=SPACE)
    assert isinstance(opened, MilvusArchiveIndex)
    yield opened
    opened.close()


def _stored_faces(index: MilvusArchiveIndex) -> int:
    """Every face row in the Milvus collection, visible or not."""
    rows = index._client.query(FACES, filter="id >= 0", output_fields=["count(*)"])
    return int(rows[0]["count(*)"])


# ---- the contract, on every backend ---------------------------------------------------------------
def test_photos_are_stored_whole_and_replaced_without_duplicates(index: ArchiveIndex, rng: np.random.Generator) -> None:
    index.put_photos([_photo("a.jpg", 2, rng), _photo("b.jpg", 0, rng), _photo("c.jpg", 3, rng)])
    photos = index.photos()
    assert {p: r.n_faces for p, r in photos.items()} == {"a.jpg": 2, "b.jpg": 0, "c.jpg": 3}
    assert photos["a.jpg"] == PhotoRecord("a.jpg", "h", 100, 1, 2, None)
    index.put_photos([_photo("a.jpg", 1, rng, h="new")])  # the photo changed: its faces are replaced
    assert index.photos()["a.jpg"].content_hash == "new"
    assert [f.photo for f in index.faces()] == ["a.jpg", "c.jpg", "c.jpg", "c.jpg"]
    assert [f.box for f in index.faces(photo="c.jpg")] == [(0, 0, 9, 9), (10, 0, 19, 9), (20, 0, 29, 9)]
    ids, emb = index.face_encodings()
    assert len(ids) == 4 and emb.shape == (4, 16) and emb.dtype == np.float32 and list(ids) == sorted(ids)
    assert index.drop_photos(["c.jpg", "missing.jpg"]) == 1
    assert [f.photo for f in index.faces()] == ["a.jpg"] and set(index.photos()) == {"a.jpg", "b.jpg"}
    index.put_photos([(PhotoRecord("bad.jpg", "", 3, 1, error="not an image"), NewFaces.none(16))])
    assert index.photos()["bad.jpg"].error == "not an image"


def test_encodings_come_back_exactly_with_their_faces(index: ArchiveIndex, rng: np.random.Generator) -> None:
    record, faces = _photo("x.jpg", 3, rng)
    index.put_photos([(record, NewFaces(faces.boxes, [0.5, 0.25, 0.125], faces.encodings))])
    stored = index.faces(photo="x.jpg", with_encodings=True)
    assert [f.score for f in stored] == [0.5, 0.25, 0.125] and all(f.group is None for f in stored)
    np.testing.assert_allclose(np.stack([f.embedding for f in stored]), faces.encodings, atol=1e-7)
    ids, emb = index.face_encodings()
    np.testing.assert_allclose(emb, faces.encodings, atol=1e-7)
    assert list(ids) == [f.id for f in stored]


def test_groups_named_merged_split_and_kept(index: ArchiveIndex, rng: np.random.Generator) -> None:
    index.put_photos([_photo(f"{i}.jpg", 2, rng) for i in range(3)])
    ids, _ = index.face_encodings()
    assert index.assign_groups(ids, [0, 0, 0, 1, 1, 2]) == 3
    groups = index.groups()
    assert [g.size for g in groups] == [3, 2, 1] and all(g.name is None for g in groups)
    big = groups[0]
    assert big.representative is not None and big.representative.group == big.id
    assert big.representative.embedding is not None and big.representative.embedding.shape == (16,)
    # the representative is the face nearest the group's mean encoding
    members = index.faces(group=big.id, with_encodings=True)
    x = np.stack([f.embedding for f in members if f.embedding is not None])
    nearest = members[int(((x - x.mean(axis=0)) ** 2).sum(axis=1).argmin())]
    assert big.representative.id == nearest.id
    # one group read alone is the same record as in the list
    for record in groups:
        alone = index.group(record.id)
        assert alone is not None and alone.representative is not None and record.representative is not None
        assert (alone.id, alone.size, alone.name, alone.representative.id) == (
            record.id,
            record.size,
            record.name,
            record.representative.id,
        )
    assert index.group(999) is None
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
    with pytest.raises(NotFoundError, match="not in archive index"):
        index.split_faces([int(ids[0]), 10**9])
    # dropping a photo drops its faces from their groups; an emptied unnamed group disappears
    index.drop_photos(["0.jpg"])
    assert [(g.size, g.name) for g in index.groups()] == [(4, "Ada Lovelace")]


def test_face_and_group_ids_are_never_reused(open_index: OpenIndex, rng: np.random.Generator) -> None:
    first = open_index()
    first.put_photos([_photo("a.jpg", 3, rng)])
    before, _ = first.face_encodings()
    first.assign_groups(before, [0, 0, 1])
    old_groups = {g.id for g in first.groups()}
    first.drop_photos(["a.jpg"])
    first.close()
    second = open_index()  # another process, later
    assert second.groups() == [] and second.photos() == {}
    second.put_photos([_photo("a.jpg", 3, rng), _photo("b.jpg", 2, rng)])
    after, _ = second.face_encodings()
    assert len(set(after)) == 5 and min(after) > max(before)
    second.assign_groups(after, [0, 1, 2, 3, 4])
    assert not {g.id for g in second.groups()} & old_groups


def test_odd_paths_are_stored_read_and_dropped(index: ArchiveIndex, rng: np.random.Generator) -> None:
    paths = ['/p/O"Brien.jpg', "/p/back\\slash.jpg", "/p/new\nline.jpg", "/p/tab\t.jpg", "/p/Zoë Ångström.jpg"]
    index.put_photos([_photo(p, 1, rng) for p in paths])
    assert set(index.photos()) == set(paths)
    for path in paths:
        assert [f.photo for f in index.faces(photo=path)] == [path]
    assert index.drop_photos(paths[:3]) == 3
    assert sorted(f.photo for f in index.faces()) == sorted(paths[3:])


def test_bad_faces_are_refused_and_another_encoder_too(open_index: OpenIndex, rng: np.random.Generator) -> None:
    index = open_index()
    with pytest.raises(InvalidInputError, match="one of each"):
        index.put_photos([(PhotoRecord("x.jpg", "h", 1, 1), NewFaces([(0, 0, 9, 9)], [], unit(rng, 1)))])
    with pytest.raises(InvalidInputError, match="bad face box"):
        index.put_photos([(PhotoRecord("x.jpg", "h", 1, 1), NewFaces([(9, 0, 0, 9)], [1.0], unit(rng, 1)))])
    with pytest.raises(InvalidInputError, match=r"\(N, 16\)"):
        index.put_photos([(PhotoRecord("x.jpg", "h", 1, 1), NewFaces([(0, 0, 9, 9)], [1.0], unit(rng, 1, 8)))])
    assert index.photos() == {}
    index.put_photos([_photo("kept.jpg", 1, rng)])
    index.close()
    with pytest.raises(EmbeddingSpaceMismatchError, match="another-encoder"):
        open_index(space=OTHER_SPACE)
    with pytest.raises(GalleryUnreadableError, match="no archive index"):
        open_index("none", create=False)
    assert set(open_index(create=False).photos()) == {"kept.jpg"}  # reopened as it was


# ---- SQLite: files of another kind ----------------------------------------------------------------
def test_sqlite_files_of_another_kind_are_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    with open_gallery(tmp_path / "people.db", space=SPACE) as gallery:
        gallery.enroll("Ada", unit(rng, 1))
    with pytest.raises(GalleryUnreadableError, match="not a convapps archive index"):
        open_archive_index(tmp_path / "people.db", space=SPACE)
    (tmp_path / "text.db").write_text("hello")
    with pytest.raises(GalleryUnreadableError):
        open_archive_index(tmp_path / "text.db", space=SPACE)


# ---- Milvus: what a store without transactions must get right -------------------------------------
def test_a_killed_write_leaves_no_visible_face_and_no_duplicate(
    server_index: MilvusArchiveIndex, rng: np.random.Generator
) -> None:
    index = server_index
    index.put_photos([_photo("old.jpg", 2, rng), _photo("kept.jpg", 1, rng)])
    ids, _ = index.face_encodings()
    index.assign_groups(ids, [0, 0, 1])
    # a write re-indexing old.jpg (3 faces now) and indexing new.jpg, killed before its commit point
    items = [_photo("old.jpg", 3, rng, h="v2"), _photo("new.jpg", 2, rng)]
    index._retract(["old.jpg", "new.jpg"])
    index._insert_faces(items)
    assert _stored_faces(index) == 6  # the killed write's faces are stored...
    assert set(index.photos()) == {"kept.jpg"}  # ...but their photos are not indexed, so they are invisible
    assert [f.photo for f in index.faces()] == ["kept.jpg"]
    assert index.faces(photo="old.jpg") == [] and index.faces(photo="new.jpg", with_encodings=True) == []
    visible, _ = index.face_encodings()
    assert len(visible) == 1 and len(index.face_encodings(unnamed_only=True)[0]) == 1
    assert [g.size for g in index.groups()] == [1]  # old.jpg's group left with its faces
    with pytest.raises(NotFoundError):  # an invisible face cannot be moved either
        index.split_faces([index.faces(group=None)[0].id, int(max(ids)) + 1])
    # the next run indexes the photos without a record again: the leftovers go, nothing is duplicated
    index.put_photos(items)
    assert {p: r.n_faces for p, r in index.photos().items()} == {"kept.jpg": 1, "old.jpg": 3, "new.jpg": 2}
    assert _stored_faces(index) == 6 == len(index.faces())
    assert index.photos()["old.jpg"].content_hash == "v2"
    # a drop killed after its commit point (records deleted, faces not yet) hides the faces as well
    index._client.delete(PHOTOS, filter='path == "new.jpg"')
    assert len(index.faces()) == 4 and "new.jpg" not in index.photos()
    index.drop_photos(["new.jpg"])  # whoever drops or re-indexes it next removes the leftovers
    assert _stored_faces(index) == 4


def test_more_faces_than_one_milvus_query_returns_are_all_read(
    server_index: MilvusArchiveIndex, rng: np.random.Generator
) -> None:
    index = server_index
    per_photo, photos = 550, 30  # 16,500 faces: above Milvus' 16,384 rows per query
    index.put_photos([_photo(f"{i:02d}.jpg", per_photo, rng) for i in range(photos)])
    ids, encodings = index.face_encodings()
    assert len(ids) == len(set(ids.tolist())) == per_photo * photos > 16_384 and encodings.shape == (16_500, 16)
    assert [f.id for f in index.faces(photo="29.jpg")] == ids[-per_photo:].tolist()
    labels = (np.arange(len(ids)) % 3 == 0).astype(int)  # group changes rewrite rows in batches
    assert index.assign_groups(ids.tolist(), labels.tolist()) == 2
    assert [g.size for g in index.groups()] == [11_000, 5_500]
    assert index.drop_photos([f"{i:02d}.jpg" for i in range(photos)]) == photos
    assert _stored_faces(index) == 0 and index.groups() == []


def test_a_gallery_and_an_archive_share_a_server_database(
    milvus_server: str, tmp_path: Path, rng: np.random.Generator
) -> None:
    SERVER["address"] = milvus_server
    url = gallery_url("milvus-server", tmp_path, "shared")
    ada = unit(rng, 1)
    with open_gallery(url, space=SPACE) as gallery:
        gallery.enroll("Ada", ada)
    with pytest.raises(GalleryUnreadableError, match="no archive index"):  # a gallery is no archive
        open_archive_index(url, space=SPACE, create=False)
    with open_archive_index(url, space=SPACE) as index:
        index.put_photos([_photo("a.jpg", 2, rng)])
    with open_archive_index(url, space=SPACE, create=False) as index, open_gallery(url, space=SPACE) as gallery:
        assert len(index.faces()) == 2
        assert [p.name for p in gallery.identities()] == ["Ada"]
        assert gallery.search(ada)[0][0].identity.name == "Ada"


def test_a_foreign_meta_collection_is_refused(server_index: MilvusArchiveIndex) -> None:
    server_index._client.upsert(META, [{"key": "format", "value": "somebody-else", "unused": [0.0, 0.0]}])
    with pytest.raises(GalleryUnreadableError, match="not a convapps archive index"):
        open_archive_index(server_index.url.replace("http://", "milvus://"), space=SPACE)


def test_unreachable_milvus_server_is_one_quick_error() -> None:
    start = time.monotonic()
    with pytest.raises(
        GalleryUnavailableError, match=r"^cannot reach the Milvus server at http://127\.0\.0\.1:9/archive: "
    ):
        open_archive_index("milvus://127.0.0.1:9/archive", space=SPACE, connect_timeout_s=2)
    assert time.monotonic() - start < 10


def test_bad_server_database_names_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="database name"):
        open_archive_index("milvus://127.0.0.1:9/no-dashes", space=EmbeddingSpace("m", 4))
