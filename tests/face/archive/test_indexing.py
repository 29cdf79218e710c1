"""Indexing a folder of real LFW photos (local engine): every face stored with its photo, unreadable files (not an
image, cut short, a 900-megapixel bomb) listed and recorded, a second run does nothing, a changed photo is
re-indexed and a deleted one dropped, never leaving duplicate faces."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from convapps.engine.runners import EngineConfig
from convapps.face.archive.indexing import index_archive
from convapps.face.encoders import load_encoder
from convapps.gallery import open_archive_index

from ...io.png_files import write_png
from ..faces_data import lfw

pytestmark = pytest.mark.shared_data
PEOPLE = [("Colin_Powell", 1), ("Colin_Powell", 2), ("Tony_Blair", 1), ("Tony_Blair", 2), ("Laura_Bush", 1)]
LOCAL = EngineConfig(kind="local", workers=1)


def _archive(shared_data: Path, folder: Path) -> Path:
    for name, number in PEOPLE:
        target = folder / name / f"{number}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(lfw(shared_data, name, number), target)
    (folder / "notes.png").write_text("not an image")
    (folder / "Tony_Blair" / "cut.jpg").write_bytes(lfw(shared_data, "Tony_Blair", 3).read_bytes()[:3000])
    write_png(folder / "bomb.png", 30000, 30000, 8, 2, b"\x00" * 90001)  # 900 MP declared, a few bytes sent
    return folder


def test_index_resume_change_and_delete(shared_data: Path, tmp_path: Path) -> None:
    root = _archive(shared_data, tmp_path / "photos")
    space = load_encoder(None).space
    with open_archive_index(tmp_path / "index.db", space=space) as index:
        report = index_archive(root, index, engine=LOCAL, progress=False)
        assert (report.found, report.indexed, report.unchanged, report.dropped) == (8, 8, 0, 0)
        why = {Path(p).name: reason for p, reason in report.unreadable}
        assert sorted(why) == ["bomb.png", "cut.jpg", "notes.png"]
        assert "not an image" in why["notes.png"] and "too large" in why["bomb.png"]
        photos = index.photos()
        assert len(photos) == 8 and photos[str(root / "notes.png")].error
        faces = index.faces()
        assert report.faces == len(faces) >= 5
        for path, record in photos.items():
            assert record.n_faces == sum(f.photo == path for f in faces)
            if not record.error:
                assert record.n_faces >= 1 and len(record.content_hash) == 64
        again = index_archive(root, index, engine=LOCAL, progress=False)
        assert (again.indexed, again.unchanged, again.faces) == (0, 8, 0)
        # a changed photo is re-indexed (its faces replaced, not added), a deleted one dropped
        shutil.copy(lfw(shared_data, "Laura_Bush", 2), root / "Colin_Powell" / "1.jpg")
        (root / "Tony_Blair" / "2.jpg").unlink()
        third = index_archive(root, index, engine=LOCAL, progress=False)
        assert (third.found, third.indexed, third.dropped) == (7, 1, 1)
        faces = index.faces()
        assert str(root / "Tony_Blair" / "2.jpg") not in {f.photo for f in faces}
        assert sum(f.photo == str(root / "Colin_Powell" / "1.jpg") for f in faces) == third.faces
        assert len(faces) == sum(r.n_faces for r in index.photos().values())


def test_heic_photo_is_indexed_like_its_jpeg(shared_data: Path, tmp_path: Path) -> None:
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    root = tmp_path / "phone"
    root.mkdir()
    shutil.copy(lfw(shared_data, "Laura_Bush", 1), root / "IMG_0001.jpg")
    Image.open(lfw(shared_data, "Laura_Bush", 1)).save(root / "IMG_0002.HEIC", format="HEIF", quality=90)
    with open_archive_index(tmp_path / "index.db", space=load_encoder(None).space) as index:
        report = index_archive(root, index, engine=LOCAL, progress=False)
        assert (report.indexed, report.faces, report.unreadable) == (2, 2, [])
        faces = index.faces(with_encodings=True)
    jpeg, heic = sorted(faces, key=lambda f: f.photo)
    assert heic.photo.endswith(".HEIC")
    assert jpeg.embedding is not None and heic.embedding is not None
    assert float(((jpeg.embedding - heic.embedding) ** 2).sum()) < 0.02  # same face, same person, tiny codec loss
