"""``convapps face index | cluster | people | name | find | merge | split | sheet`` end to end on a folder of
real LFW photos, indexed through an embedded local Ray; and an index killed outright (SIGKILL) midway
resumes without duplicate faces."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from convapps.cli.main import main

pytestmark = pytest.mark.shared_data
CONSOLE_SCRIPT = Path(sys.executable).parent / "convapps"
PEOPLE = {"Colin_Powell": 5, "Tony_Blair": 5, "Gerhard_Schroeder": 4}
ONE_OFFS = ["Aaron_Peirsol", "Serena_Williams", "Abel_Pacheco"]


def _main_face_groups(db: Path) -> dict[str, set[int]]:
    """Person (the photo's LFW folder) -> groups of the largest face of each of their photos."""
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT photo, (x1 - x0) * (y1 - y0), group_id FROM faces").fetchall()
    largest: dict[str, tuple[int, int]] = {}
    for photo, area, group in rows:
        if photo not in largest or area > largest[photo][0]:
            largest[photo] = (area, group)
    out: dict[str, set[int]] = {}
    for photo, (_, group) in largest.items():
        out.setdefault(Path(photo).parent.name, set()).add(group)
    return out


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _copy(lfw: Path, person: str, number: int, folder: Path) -> Path:
    target = folder / person / f"{person}_{number:04d}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(lfw / person / f"{person}_{number:04d}.jpg", target)
    return target


@pytest.fixture(scope="module")
def lfw(shared_data: Path) -> Path:
    return shared_data / "faces" / "lfw" / "lfw-deepfunneled"


def test_index_cluster_name_find_through_ray(capsys: pytest.CaptureFixture[str], tmp_path: Path, lfw: Path) -> None:
    photos = tmp_path / "photos"
    for person, n in PEOPLE.items():
        for number in range(1, n + 1):
            _copy(lfw, person, number, photos)
    for person in ONE_OFFS:
        _copy(lfw, person, 1, photos / "misc")
    (photos / "misc" / "readme.jpg").write_text("not a photo")
    ix = ["--index", str(tmp_path / "archive.db")]
    code, out, err = run(capsys, "face", "index", str(photos), *ix, "--workers", "2", "--quiet")
    assert code == 0, err
    assert "18 photos: 18 indexed" in out and "1 unreadable" in out
    assert "readme.jpg" in err and "not an image" in err
    code, out, _ = run(capsys, "face", "index", str(photos), *ix, "--engine", "local", "--quiet")
    assert code == 0 and "0 indexed (0 faces), 18 unchanged" in out

    code, out, err = run(capsys, "face", "cluster", *ix)
    assert code == 0 and "groups" in out
    assert "neighbours: 100%" in err and re.search(r"grouping: \d+ merge", err)  # progress on stderr
    # each photo's main (largest) face: every group holds one person, Colin's and Gerhard's 5 and 4 photos
    # fall in one group each; a person split over several groups is merged back by hand
    groups_of = _main_face_groups(tmp_path / "archive.db")
    owners: dict[int, set[str]] = {}
    for person, person_groups in groups_of.items():
        for group in person_groups:
            owners.setdefault(group, set()).add(person)
    assert all(len(people) == 1 for people in owners.values()), owners  # no group mixes two people
    assert len(groups_of["Colin_Powell"]) == 1 and len(groups_of["Gerhard_Schroeder"]) == 1
    tony = sorted(groups_of["Tony_Blair"])
    if len(tony) > 1:
        code, out, _ = run(capsys, "face", "merge", str(tony[0]), *map(str, tony[1:]), *ix)
        assert code == 0 and "moved" in out
    assert len(_main_face_groups(tmp_path / "archive.db")["Tony_Blair"]) == 1
    code, out, _ = run(capsys, "face", "people", *ix, "--json")
    big = json.loads(out)
    assert [g["size"] for g in big][:3] >= [5, 5, 4]
    colin = next(g for g in big if g["group"] in groups_of["Colin_Powell"])

    gallery = ["--gallery", str(tmp_path / "people.db")]
    code, out, _ = run(capsys, "face", "name", str(colin["group"]), "Colin Powell", *ix, *gallery)
    assert code == 0 and "enrolled with" in out
    code, out, _ = run(capsys, "face", "find", "colin powell", *ix, "--json")
    hits = json.loads(out)
    assert code == 0 and {Path(h["photo"]).parent.name for h in hits} == {"Colin_Powell"} and len(hits) == 5
    assert all(len(h["boxes"]) >= 1 and len(h["boxes"][0]) == 4 for h in hits)
    # a photo of Colin that is not in the archive finds his photos
    probe = lfw / "Colin_Powell" / "Colin_Powell_0010.jpg"
    code, out, _ = run(capsys, "face", "find", str(probe), *ix, "--json")
    found = json.loads(out)
    assert code == 0 and {Path(h["photo"]).parent.name for h in found} == {"Colin_Powell"}
    # the person is now recognised from the gallery
    code, out, _ = run(capsys, "face", "identify", str(probe), *gallery)
    assert code == 0 and "This is Colin Powell" in out
    # a contact sheet of the group
    code, out, _ = run(capsys, "face", "sheet", "Colin Powell", *ix, "--out", str(tmp_path / "colin.html"))
    page = (tmp_path / "colin.html").read_text()
    assert code == 0 and page.count("<img ") == colin["size"] and "Colin Powell" in page
    # split one face off into a group of its own, then merge it back
    face_ids = re.findall(r'alt="face (\d+)"', page)
    code, out, _ = run(capsys, "face", "split", face_ids[0], *ix)
    new_group = out.split("now in group ")[1].strip()
    assert code == 0 and new_group != str(colin["group"])
    assert len(json.loads(run(capsys, "face", "find", "Colin Powell", *ix, "--json")[1])) == 4
    code, out, _ = run(capsys, "face", "merge", "Colin Powell", new_group, *ix)
    assert code == 0 and "moved 1 face(s)" in out
    # errors: one line, non-zero exit, nothing changed
    code, _, err = run(capsys, "face", "find", "Nobody Known", *ix)
    assert code != 0 and "nobody named 'Nobody Known'" in err and err.count("\n") == 1
    code, _, err = run(capsys, "face", "name", "99999", "X", *ix, "--no-enroll")
    assert code != 0 and "no group 99999" in err
    code, _, err = run(capsys, "face", "name", str(big[1]["group"]), "COLIN POWELL", *ix, "--no-enroll")
    assert code != 0 and "already named" in err


def test_sigkilled_index_resumes_without_duplicates(tmp_path: Path, lfw: Path) -> None:
    photos = tmp_path / "photos"
    people = sorted(p.name for p in lfw.iterdir() if p.is_dir())[:400:10]
    for person in people:
        _copy(lfw, person, 1, photos)
    db = tmp_path / "archive.db"
    argv = [
        str(CONSOLE_SCRIPT),
        "face",
        "index",
        str(photos),
        "--index",
        str(db),
        "--engine",
        "local",
        "--workers",
        "1",
    ]
    proc = subprocess.Popen([*argv, "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db) as con:
                    stored = con.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0
        if stored >= 8:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the index finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as con:
        before = con.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
    assert 8 <= before < len(people)
    done = subprocess.run([*argv, "--quiet"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(people)} photos: {len(people) - before} indexed" in done.stdout
    with sqlite3.connect(db) as con:
        photos_n = con.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        rows = con.execute("SELECT photo, x0, y0, x1, y1 FROM faces").fetchall()
        declared = con.execute("SELECT SUM(n_faces) FROM photos").fetchone()[0]
    assert photos_n == len(people) and len(rows) == declared >= len(people) - 2
    assert max(Counter(rows).values()) == 1  # no face stored twice
