"""``convapps face index | cluster | name | find`` with ``--index milvus://host:port``, against the session's real
Milvus server: the same faces, boxes and groups as the SQLite index of the same folder, and the named
person's photos found by name and by a photo of their face."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from convapps.cli.main import main
from convapps.gallery import open_archive_index
from convapps.gallery.archive_base import Box
from convapps.models.registry import DLIB_RESNET

pytestmark = pytest.mark.shared_data
PHOTOS = {"Colin_Powell": 3, "Tony_Blair": 2, "Serena_Williams": 1}

FaceKey = tuple[str, Box]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _faces_by_group(url: str) -> dict[FaceKey, int]:
    """(photo relative to its person's folder, box) -> group of every face of the index at ``url``."""
    with open_archive_index(url, space=DLIB_RESNET.space, create=False) as index:
        faces = index.faces()
    assert all(f.group is not None for f in faces)
    return {(str(Path(f.photo).relative_to(Path(f.photo).parents[1])), f.box): int(f.group or 0) for f in faces}


def _partition(groups: dict[FaceKey, int]) -> set[frozenset[FaceKey]]:
    members: dict[int, set[FaceKey]] = {}
    for face, group in groups.items():
        members.setdefault(group, set()).add(face)
    return {frozenset(m) for m in members.values()}


def _main_face_group(groups: dict[FaceKey, int], photo: str) -> int:
    """The group of the largest face of ``photo``."""
    faces = [(box, group) for (p, box), group in groups.items() if p == photo]
    return max(faces, key=lambda f: (f[0][2] - f[0][0]) * (f[0][3] - f[0][1]))[1]


def test_index_cluster_name_find_on_a_milvus_server(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_data: Path, milvus_server: str
) -> None:
    lfw = shared_data / "faces" / "lfw" / "lfw-deepfunneled"
    for person, n in PHOTOS.items():
        (tmp_path / "sqlite" / person).mkdir(parents=True)
        for number in range(1, n + 1):
            shutil.copy(lfw / person / f"{person}_{number:04d}.jpg", tmp_path / "sqlite" / person)
    shutil.copytree(tmp_path / "sqlite", tmp_path / "milvus")  # the same photos, under another root
    urls = {"sqlite": str(tmp_path / "archive.db"), "milvus": f"milvus://{milvus_server}"}
    for backend, url in urls.items():
        folder = str(tmp_path / backend)
        code, out, err = run(
            capsys, "face", "index", folder, "--index", url, "--engine", "local", "--workers", "1", "--quiet"
        )
        assert code == 0, err
        assert "6 photos: 6 indexed" in out and "0 unreadable" in out
        code, out, _ = run(capsys, "face", "index", folder, "--index", url, "--engine", "local", "--quiet")
        assert code == 0 and "0 indexed (0 faces), 6 unchanged" in out
        code, out, err = run(capsys, "face", "cluster", "--index", url)
        assert code == 0 and "groups" in out, err

    # the server holds the same faces, boxes and groups as the SQLite file
    groups = {backend: _faces_by_group(url) for backend, url in urls.items()}
    assert groups["milvus"].keys() == groups["sqlite"].keys() and len(groups["milvus"]) >= 6
    assert _partition(groups["milvus"]) == _partition(groups["sqlite"])

    ix = ["--index", urls["milvus"]]
    colin_photos = [f"Colin_Powell/Colin_Powell_{n:04d}.jpg" for n in range(1, 4)]
    colin = sorted({_main_face_group(groups["milvus"], p) for p in colin_photos})
    if len(colin) > 1:  # one person found as several groups: merged by hand, as a user would
        code, out, _ = run(capsys, "face", "merge", *map(str, colin), *ix)
        assert code == 0 and "moved" in out
    assert _main_face_group(groups["milvus"], "Tony_Blair/Tony_Blair_0001.jpg") not in colin
    gallery = ["--gallery", str(tmp_path / "people.db")]
    code, out, err = run(capsys, "face", "name", str(colin[0]), "Colin Powell", *ix, *gallery)
    assert code == 0 and "enrolled with" in out, err

    code, out, err = run(capsys, "face", "find", "colin powell", *ix, "--json")
    hits = json.loads(out)
    assert code == 0, err
    assert sorted(str(Path(h["photo"]).relative_to(tmp_path / "milvus")) for h in hits) == colin_photos
    assert all(len(h["boxes"]) >= 1 and len(h["boxes"][0]) == 4 for h in hits)
    probe = lfw / "Colin_Powell" / "Colin_Powell_0010.jpg"  # not in the archive
    code, out, err = run(capsys, "face", "find", str(probe), *ix, "--json")
    assert code == 0, err
    assert {Path(h["photo"]).parent.name for h in json.loads(out)} == {"Colin_Powell"}
    code, _, err = run(capsys, "face", "find", "Nobody Known", *ix)
    assert code != 0 and "nobody named 'Nobody Known'" in err and err.count("\n") == 1
