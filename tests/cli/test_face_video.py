"""``convapps face identify-video`` end to end: a clip rendered from LFW photos, enrolled through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from convapps.cli.main import main
from convapps.face.clip_spec import Appearance, ClipSpec
from convapps.face.video_clips import render_clip
from convapps.io.video import open_video


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _photo(shared_data: Path, name: str, number: int) -> Path:
    return shared_data / "faces" / "lfw" / "lfw-deepfunneled" / name / f"{name}_{number:04d}.jpg"


def test_identify_video_writes_annotated_copy_and_timeline(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_data: Path
) -> None:
    g = ["--gallery", str(tmp_path / "team.db")]
    assert run(capsys, "face", "enroll", "Tony Blair", str(_photo(shared_data, "Tony_Blair", 1)), *g)[0] == 0
    spec = ClipSpec(
        480,
        270,
        20,
        3.0,
        (
            Appearance("Tony Blair", _photo(shared_data, "Tony_Blair", 5), 0.0, 3.0, (0.3, 0.5), (0.35, 0.5), 170, 170),
            Appearance("stranger", _photo(shared_data, "Colin_Powell", 2), 0.5, 3.0, (0.75, 0.5), (0.7, 0.5), 160, 160),
        ),
    )
    clip = tmp_path / "door.mp4"
    render_clip(spec, clip)
    out, timeline = tmp_path / "named.mp4", tmp_path / "timeline.json"
    code, text, err = run(
        capsys, "face", "identify-video", str(clip), *g, "-o", str(out), "--json", str(timeline), "--quiet"
    )
    assert code == 0, err
    assert text.startswith("60 frames in ") and ", 2 tracks" in text
    assert "track 1: Tony Blair  0:00.00-0:02.95" in text
    assert re.search(r"track 2: not recognized  0:00\.[56]0-0:02\.95", text)  # found at the first detection after 0.5 s
    data = json.loads(timeline.read_text())
    assert data["frames_processed"] == 60 and data["truncated"] is False and data["width"] == 480
    rows = {row["track"]: row for row in data["tracks"]}
    assert rows[1]["name"] == "Tony Blair" and rows[1]["votes"] == {"Tony Blair": rows[1]["samples"]}
    assert rows[2]["name"] is None and rows[2]["nearest"] == "Tony Blair" and rows[2]["score"]["min"] > rows[2]["tau"]
    assert rows[1]["distance"]["max"] < 0.36 and rows[1]["first_s"] == 0.0
    with open_video(out) as reader:
        assert (reader.info.width, reader.info.height) == (480, 270)
        assert sum(1 for _ in reader) == 60


def test_identify_video_bad_inputs_fail_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_data: Path
) -> None:
    g = ["--gallery", str(tmp_path / "team.db")]
    assert run(capsys, "face", "enroll", "Tony Blair", str(_photo(shared_data, "Tony_Blair", 1)), *g)[0] == 0
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n")
    code, out, err = run(capsys, "face", "identify-video", str(fake), *g, "--quiet")
    assert code == 2 and out == ""
    assert "notes.mp4: not a video file" in err and len(err.strip().splitlines()) <= 2  # the error, maybe a hint
    code, _, err = run(capsys, "face", "identify-video", str(tmp_path / "missing.mp4"), *g)
    assert code != 0 and "does not exist" in err
    target = tmp_path / "kept.mp4"
    target.write_bytes(b"old")
    code, _, err = run(capsys, "face", "identify-video", str(fake), *g, "-o", str(target), "--quiet")
    assert code != 0 and target.read_bytes() == b"old"  # a failed run leaves an existing output alone
