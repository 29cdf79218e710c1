"""identify_video on files: the annotated copy, the timeline, damaged and oversized input."""

from __future__ import annotations

from pathlib import Path

import pytest

from convapps.errors import NotAVideoError
from convapps.face.clip_spec import Appearance, ClipSpec
from convapps.face.pipeline import default_pipeline
from convapps.face.stream_results import FrameResult
from convapps.face.video import identify_video
from convapps.face.video_clips import render_clip
from convapps.gallery import Gallery, open_gallery
from convapps.io.images import load_image
from convapps.io.video import open_video

from .faces_data import lfw


@pytest.fixture
def gallery(tmp_path: Path, shared_data: Path) -> Gallery:
    pipe = default_pipeline()
    store = open_gallery(tmp_path / "g.db", space=pipe.encoder.space)
    store.enroll("Tony_Blair", pipe.encode_one(load_image(lfw(shared_data, "Tony_Blair", 1))).embedding)
    return store


def _clip(shared_data: Path, path: Path, width: int, height: int, seconds: float, size: int) -> Path:
    blair = Appearance(
        "Tony_Blair", lfw(shared_data, "Tony_Blair", 5), 0.0, seconds, (0.4, 0.5), (0.6, 0.5), size, size
    )
    render_clip(ClipSpec(width, height, 10, seconds, (blair,)), path)
    return path


def test_damaged_file_gives_the_frames_before_the_damage(tmp_path: Path, shared_data: Path, gallery: Gallery) -> None:
    clip = _clip(shared_data, tmp_path / "door.mp4", 480, 270, 4.0, 180)
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    seen: list[FrameResult] = []
    report = identify_video(cut, gallery, out=tmp_path / "named.mp4", on_frame=seen.append)
    assert report.truncated and 10 <= report.frames < 40 and len(seen) == report.frames
    [track] = [t for t in report.tracks if t.frames]
    assert track.name == "Tony_Blair"
    timeline = report.timeline()
    assert timeline["truncated"] is True and timeline["frames_processed"] == report.frames
    with open_video(tmp_path / "named.mp4") as reader:
        assert sum(1 for _ in reader) == report.frames


def test_oversized_video_is_processed_at_the_working_size(tmp_path: Path, shared_data: Path, gallery: Gallery) -> None:
    clip = _clip(shared_data, tmp_path / "big.mp4", 2560, 1440, 0.6, 900)
    report = identify_video(clip, gallery, out=tmp_path / "named.mp4", max_side=640)
    assert (report.source.width, report.source.height) == (2560, 1440)
    assert (report.source.work_width, report.source.work_height) == (640, 360)
    with open_video(tmp_path / "named.mp4") as reader:
        assert (reader.info.width, reader.info.height) == (640, 360)
    assert [t.frames for t in report.tracks] == [6]


def test_not_a_video_is_refused_before_any_output(tmp_path: Path, gallery: Gallery) -> None:
    fake = tmp_path / "photo.mp4"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(NotAVideoError, match=r"photo\.mp4: not a video file"):
        identify_video(fake, gallery, out=tmp_path / "named.mp4")
    assert not (tmp_path / "named.mp4").exists()
