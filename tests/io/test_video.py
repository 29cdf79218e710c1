"""Video reading and writing on tiny files generated in the test: round trips, bounded size, damage, refusals."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from convapps.errors import ConvappsError, InvalidInputError, NotAVideoError, NotFoundError
from convapps.io.video import VIDEO_SUFFIXES, VideoWriter, open_video, work_size


def colour_frame(index: int, width: int = 96, height: int = 64) -> NDArray[np.uint8]:
    """A flat colour that changes with the index (easy to check after lossy coding)."""
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[...] = (20 + 8 * index, 200 - 5 * index, 90)
    return rgb


def noise_frame(index: int, width: int = 96, height: int = 64) -> NDArray[np.uint8]:
    """Random pixels: every frame costs many bytes, so a cut file loses whole frames."""
    return np.random.default_rng(index).integers(0, 256, (height, width, 3), dtype=np.uint8)


def write_video(path: Path, frames: list[NDArray[np.uint8]], fps: float = 25) -> Path:
    height, width = frames[0].shape[:2]
    with VideoWriter(path, fps=fps, width=width, height=height, crf=18) as out:
        for rgb in frames:
            out.write(rgb)
    return path


@pytest.mark.parametrize("suffix", VIDEO_SUFFIXES)
def test_round_trip_keeps_size_rate_count_and_colour(tmp_path: Path, suffix: str) -> None:
    frames = [colour_frame(i) for i in range(12)]
    path = write_video(tmp_path / f"clip{suffix}", frames, fps=30)
    with open_video(path) as video:
        info = video.info
        decoded = list(video)
    assert (info.width, info.height, info.work_width, info.work_height) == (96, 64, 96, 64)
    assert info.fps == pytest.approx(30.0)
    assert info.n_frames == 12
    assert info.duration_s == pytest.approx(12 / 30, abs=0.02)
    assert len(decoded) == 12 and not video.truncated
    assert [f.index for f in decoded] == list(range(12))
    assert [f.time_s for f in decoded] == pytest.approx([i / 30 for i in range(12)], abs=1e-3)
    for frame, original in zip(decoded, frames, strict=True):
        assert frame.rgb.dtype == np.uint8 and frame.rgb.shape == (64, 96, 3) and frame.rgb.flags.c_contiguous
        assert np.abs(frame.rgb[8:-8, 8:-8].astype(int) - original[8:-8, 8:-8]).max() <= 8


def test_codec_follows_the_suffix(tmp_path: Path) -> None:
    frames = [colour_frame(0)] * 2
    codecs = {}
    for suffix in (".mp4", ".webm", ".avi"):
        with open_video(write_video(tmp_path / f"c{suffix}", frames)) as video:
            codecs[suffix] = video.info.codec
    assert codecs == {".mp4": "h264", ".webm": "vp9", ".avi": "mpeg4"}


def test_odd_size_is_padded_to_even(tmp_path: Path) -> None:
    frames = [colour_frame(i, width=65, height=33) for i in range(3)]
    with open_video(write_video(tmp_path / "odd.mp4", frames)) as video:
        decoded = list(video)
    assert (video.info.width, video.info.height) == (66, 34)
    rgb = decoded[2].rgb.astype(int)
    assert np.abs(rgb[:33, :65] - frames[2]).max() <= 8
    assert np.abs(rgb[33, :65] - frames[2][32]).max() <= 8 and np.abs(rgb[:33, 65] - frames[2][:, 64]).max() <= 8


def test_4k_source_is_decoded_at_the_bounded_work_size(tmp_path: Path) -> None:
    big = np.zeros((2160, 3840, 3), np.uint8)
    big[:, :1920] = (250, 10, 10)  # left half red, right half blue
    big[:, 1920:] = (10, 10, 250)
    path = tmp_path / "uhd.mp4"
    with VideoWriter(path, fps=25, width=3840, height=2160, preset="ultrafast") as out:
        out.write(big)
        out.write(big)
    with open_video(path, max_side=640) as video:
        decoded = list(video)
    assert (video.info.width, video.info.height) == (3840, 2160)
    assert (video.info.work_width, video.info.work_height) == (640, 360)
    assert len(decoded) == 2 and decoded[0].rgb.shape == (360, 640, 3)
    assert decoded[0].rgb[180, 100, 0] > 200 and decoded[0].rgb[180, 540, 2] > 200


def test_work_size_keeps_aspect_and_even_sides() -> None:
    assert work_size(3840, 2160, 1280) == (1280, 720)
    assert work_size(1080, 1920, 1280) == (720, 1280)
    assert work_size(641, 361, 1280) == (640, 360)
    assert work_size(1001, 333, 500) == (500, 166)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".avi"])
def test_truncated_file_yields_the_frames_before_the_damage(tmp_path: Path, suffix: str) -> None:
    full = write_video(tmp_path / f"full{suffix}", [noise_frame(i) for i in range(30)])
    with open_video(full) as video:
        intact = [f.rgb for f in video]
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with open_video(cut) as video:
        decoded = list(video)
    assert video.truncated
    assert 5 <= len(decoded) < 30
    assert [f.index for f in decoded] == list(range(len(decoded)))
    for frame in decoded[:5]:  # the frames before the damage are intact
        assert np.array_equal(frame.rgb, intact[frame.index])


def test_cut_at_a_packet_boundary_is_flagged_from_the_stated_duration(tmp_path: Path) -> None:
    path = write_video(tmp_path / "full.mkv", [noise_frame(i) for i in range(20)])
    with av.open(str(path)) as container:
        ends = [p.pos + p.size for p in container.demux(video=0) if p.size and p.pos is not None]
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(path.read_bytes()[: ends[9]])
    with open_video(cut) as video:
        n = sum(1 for _ in video)
    assert n < 20 and video.truncated


def test_stopping_early_is_not_truncation(tmp_path: Path) -> None:
    path = write_video(tmp_path / "a.mp4", [colour_frame(i) for i in range(10)])
    with open_video(path) as video:
        first = next(iter(video))
    assert first.index == 0 and not video.truncated


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"^nothing\.mp4: no such file$"):
        open_video(tmp_path / "nothing.mp4")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(NotAVideoError, match=r"^empty\.mp4: not a video file \(empty file\)$"):
        open_video(tmp_path / "empty.mp4")


@pytest.mark.parametrize("seed", range(5))
def test_garbage_bytes(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    path = tmp_path / "garbage.mp4"
    path.write_bytes(rng.bytes(int(rng.integers(100, 60_000))))
    with pytest.raises(NotAVideoError, match=r"^garbage\.mp4: not a video file \("):
        open_video(path)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP"])
def test_image_file(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"photo.{fmt.lower()}"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path, format=fmt)
    with pytest.raises(NotAVideoError, match=r"not a video file \(an image\)$"):
        open_video(path)


def test_image_renamed_as_mp4(tmp_path: Path) -> None:
    path = tmp_path / "photo.mp4"
    Image.new("RGB", (64, 48)).save(path, format="JPEG")
    with pytest.raises(NotAVideoError, match=r"^photo\.mp4: not a video file \(an image\)$"):
        open_video(path)


def test_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "voice.m4a"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16000)
        for i in range(8):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(NotAVideoError, match=r"^voice\.m4a: has no video stream$"):
        open_video(path)


def test_moov_at_the_end_cut_off_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "camera.mp4"
    with av.open(str(path), "w", format="mp4") as container:  # no faststart: the index comes last
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(noise_frame(i), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(NotAVideoError, match=r"^cut\.mp4: not a video file"):
        open_video(cut)


def test_a_directory_and_a_custom_name(tmp_path: Path) -> None:
    with pytest.raises(NotAVideoError, match=r"^upload: not a video file \(not a regular file\)$"):
        open_video(tmp_path, name="upload")


def test_errors_are_one_line_convapps_errors(tmp_path: Path) -> None:
    (tmp_path / "x.webm").write_bytes(b"\x1a\x45\xdf\xa3" + b"\x00" * 50)
    with pytest.raises(ConvappsError) as caught:
        open_video(tmp_path / "x.webm")
    assert "\n" not in str(caught.value) and isinstance(caught.value, InvalidInputError)


def test_writer_failure_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError, match="boom"), VideoWriter(target, fps=25, width=96, height=64) as out:
        for i in range(5):
            out.write(noise_frame(i))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_writer_failure_keeps_the_existing_file(tmp_path: Path) -> None:
    target = write_video(tmp_path / "out.mkv", [colour_frame(i) for i in range(4)])
    before = target.read_bytes()
    error = pytest.raises(InvalidInputError, match=r"frame must be uint8 \(64, 96, 3\)")
    with error, VideoWriter(target, fps=25, width=96, height=64) as out:
        out.write(noise_frame(0))
        out.write(noise_frame(1, width=50))
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mkv"]


def test_writer_replaces_an_existing_file_on_success(tmp_path: Path) -> None:
    target = write_video(tmp_path / "out.mp4", [colour_frame(i) for i in range(4)])
    write_video(target, [colour_frame(i) for i in range(7)])
    with open_video(target) as video:
        assert sum(1 for _ in video) == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_writer_refusals(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"out\.gif: unsupported video suffix"):
        VideoWriter(tmp_path / "out.gif", fps=25, width=64, height=64)
    with pytest.raises(InvalidInputError, match="positive size"):
        VideoWriter(tmp_path / "out.mp4", fps=0, width=64, height=64)
    with pytest.raises(NotFoundError, match="no such folder"):
        VideoWriter(tmp_path / "missing" / "out.mp4", fps=25, width=64, height=64)
    assert list(tmp_path.iterdir()) == []
