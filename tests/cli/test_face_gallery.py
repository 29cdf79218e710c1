"""``convapps face enroll/enroll-dir/identify/verify-id/list/remove/rename/export/import`` end to end."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from convapps.cli.main import main
from convapps.io.images import load_image, save_image

CONSOLE_SCRIPT = Path(sys.executable).parent / "convapps"
COMMANDS = ["enroll", "enroll-dir", "identify", "verify-id", "list", "remove", "rename", "export", "import"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def lfw(shared_data: Path) -> Path:
    return shared_data / "faces" / "lfw" / "lfw-deepfunneled"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_explains_each_command(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, "face", command, "--help")
    assert code == 0 and f"Usage: convapps face {command}" in out
    assert "--gallery" in out or command in ("enroll-dir",)


def test_enroll_identify_verify_rename_remove(capsys: pytest.CaptureFixture[str], tmp_path: Path, lfw: Path) -> None:
    g = ["--gallery", str(tmp_path / "people.db")]
    aaron1, aaron2 = lfw / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg", lfw / "Aaron_Peirsol/Aaron_Peirsol_0002.jpg"
    stranger = lfw / "Serena_Williams/Serena_Williams_0001.jpg"
    code, out, _ = run(capsys, "face", "enroll", "Aaron", str(aaron1), *g, "--meta", "team=swim")
    assert code == 0 and "enrolled 'Aaron' (id 1, 1 encoding(s))" in out

    annotated = tmp_path / "annotated.png"
    code, out, _ = run(capsys, "face", "identify", str(aaron2), *g, "-o", str(annotated))
    assert code == 0 and ": This is Aaron (match score 0." in out
    assert out.startswith("tau ") and "1 person, FAR 1% per search" in out
    assert load_image(annotated).shape == load_image(aaron2).shape

    code, out, _ = run(capsys, "face", "identify", str(stranger), *g, "--json")
    [face] = json.loads(out)
    assert code == 0 and face["recognized"] is False and face["nearest"] == "Aaron" and face["score"] > face["tau"]
    assert face["tau_reason"].endswith("1 person, FAR 1% per search") and face["calibrated"] is True

    code, out, _ = run(capsys, "face", "verify-id", str(aaron2), "Aaron", *g)
    assert code == 0 and out.startswith("same person: 'Aaron'")
    code, out, _ = run(capsys, "face", "verify-id", str(stranger), "Aaron", *g)
    assert code == 0 and out.startswith("NOT the claimed person")

    assert run(capsys, "face", "rename", "Aaron", "Aaron Peirsol", *g)[0] == 0
    code, out, err = run(capsys, "face", "list", *g)
    assert code == 0 and out.split() == ["1", "Aaron", "Peirsol", "[1", "encoding(s)]", "team=swim"]
    assert "1 people in" in err

    assert run(capsys, "face", "remove", "Aaron Peirsol", *g)[0] == 0
    code, out, _ = run(capsys, "face", "identify", str(aaron2), *g)
    assert code == 0 and "Not recognized: nobody is enrolled yet." in out


def test_enroll_dir_then_export_import_into_milvus(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lfw: Path
) -> None:
    folder = tmp_path / "team"
    photos = {"Colin": "Colin_Powell/Colin_Powell_0001.jpg", "Serena": "Serena_Williams/Serena_Williams_0001.jpg"}
    for person, image in photos.items():
        (folder / person).mkdir(parents=True)
        (folder / person / "1.jpg").write_bytes((lfw / image).read_bytes())
    sqlite_g = ["--gallery", f"sqlite:///{tmp_path / 'a.db'}"]
    code, out, _ = run(capsys, "face", "enroll-dir", str(folder), *sqlite_g)
    assert code == 0 and "enrolled 2 people (0 skipped)" in out
    code, _, err = run(capsys, "face", "enroll-dir", str(folder), *sqlite_g)
    assert code == 1 and "already enrolled" in err and "--skip-existing" in err
    code, out, _ = run(capsys, "face", "enroll-dir", str(folder), *sqlite_g, "--skip-existing")
    assert code == 0 and "enrolled 0 people (2 skipped)" in out

    export = tmp_path / "team.npz"
    assert run(capsys, "face", "export", str(export), *sqlite_g)[1].startswith("exported 2 people")
    milvus_g = ["--gallery", f"milvus:///{tmp_path / 'b.db'}"]
    code, out, _ = run(capsys, "face", "import", str(export), *milvus_g)
    assert code == 0 and "imported 2 people" in out
    code, out, _ = run(capsys, "face", "identify", str(lfw / "Colin_Powell/Colin_Powell_0002.jpg"), *milvus_g)
    assert code == 0 and ": This is Colin (" in out and "second 'Serena'" in out
    code, _, err = run(capsys, "face", "import", str(export), *milvus_g)  # all or nothing
    assert code == 1 and "already enrolled" in err


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("convapps: error: ")
    return lines[0]


def test_errors_are_one_line_nonzero_and_leave_the_gallery_unchanged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lfw: Path
) -> None:
    path = tmp_path / "g.db"
    g = ["--gallery", str(path)]
    aaron1 = str(lfw / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
    assert run(capsys, "face", "enroll", "Aaron", aaron1, *g)[0] == 0

    code, _, err = run(capsys, "face", "remove", "Aron", *g)
    assert code == 1 and "no person named 'Aron'" in _one_error_line(err) and "did you mean 'Aaron'" in err
    code, _, err = run(capsys, "face", "enroll", "Aaron", aaron1, *g)
    assert code == 1 and "already enrolled" in _one_error_line(err)
    blank = tmp_path / "wall.png"
    blank.write_bytes(_png_without_face())
    code, _, err = run(capsys, "face", "enroll", "Wall", aaron1, str(blank), *g)
    assert code == 3 and "no face found" in _one_error_line(err)

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 50)
    code, _, err = run(capsys, "face", "list", "--gallery", str(garbage))
    assert code == 1 and "not a readable SQLite file" in _one_error_line(err)
    code, _, err = run(capsys, "face", "list", "--gallery", "milvus://127.0.0.1:9")
    assert code == 1 and "cannot reach the Milvus server" in _one_error_line(err)

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        code, _, err = run(capsys, "face", "rename", "Aaron", "Bob", *g)
        assert code == 1 and "is locked by another process" in _one_error_line(err)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    code, out, _ = run(capsys, "face", "list", *g)
    assert out.split()[:2] == ["1", "Aaron"] and len(out.splitlines()) == 1


def _png_without_face() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (120, 120), (90, 140, 200)).save(buf, format="PNG")
    return buf.getvalue()


def test_console_script_lists_a_gallery(tmp_path: Path) -> None:
    import numpy as np

    from convapps.gallery import EmbeddingSpace, open_gallery

    with open_gallery(tmp_path / "g.db", space=EmbeddingSpace("m", 4)) as gallery:
        gallery.enroll("Ada", np.ones(4, np.float32), metadata={"role": "admin"})
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "face", "list", "--json", "--gallery", f"sqlite:///{tmp_path / 'g.db'}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    [ada] = json.loads(proc.stdout)
    assert (ada["id"], ada["name"], ada["encodings"], ada["metadata"]) == (1, "Ada", 1, {"role": "admin"})


def test_missing_gallery_is_not_created_by_read_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.db"
    code, _, err = run(capsys, "face", "list", "--gallery", str(missing))
    assert code == 1 and "there is no gallery at" in _one_error_line(err)
    assert not missing.exists()


def test_enroll_rules_and_identify_thresholds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lfw: Path, shared_data: Path
) -> None:
    from tests.face.faces_data import two_faces

    g = ["--gallery", str(tmp_path / "people.db")]
    group = tmp_path / "group.png"
    save_image(two_faces(shared_data), group)
    code, out, err = run(capsys, "face", "enroll", "Aaron", str(group), *g)
    assert code == 2 and "2 faces found; choose which one to enroll" in err and "--face N chooses one" in err
    assert run(capsys, "face", "enroll", "Aaron", str(group), *g, "--face", "0")[0] == 0
    code, _, err = run(capsys, "face", "enroll", "A. Peirsol", str(lfw / "Aaron_Peirsol/Aaron_Peirsol_0002.jpg"), *g)
    assert code == 0 and "warning: A. Peirsol looks like Aaron (d = 0." in err

    probe = str(lfw / "Aaron_Peirsol/Aaron_Peirsol_0003.jpg")
    code, out, _ = run(capsys, "face", "identify", probe, *g, "--tau", "0.36")
    assert code == 0 and out.startswith("tau 0.36: fixed (squared L2 to the nearest photo)")
    code, out, _ = run(capsys, "face", "identify", probe, *g, "--far", "0.001", "--json")
    [face] = json.loads(out)
    assert (
        face["recognized"]
        and face["tau_reason"].startswith("tau ")
        and "2 people, FAR 0.1% per search" in face["tau_reason"]
    )
    assert run(capsys, "face", "identify", probe, *g, "--far", "1.5")[0] == 2
