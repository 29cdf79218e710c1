"""Video files in and out with PyAV (FFmpeg): frames as RGB uint8 ``(H, W, 3)`` at a bounded working size.

>>> with open_video("talk.mp4", max_side=1280) as video:
...     for frame in video:            # VideoFrame(index, time_s, rgb)
...         ...
>>> with VideoWriter("out.mp4", fps=25, width=640, height=360) as out:
...     out.write(rgb)

Reading uses FFmpeg's threaded decoding and scales each frame with swscale straight to the working size
(the longer side at most ``max_side``, even sides, aspect kept), so a 4K file never costs 4K arrays in
Python. A file that is cut off or damaged part-way yields the frames before the damage and sets
``truncated``; files that are not videos are refused when opened, with a one-line
:class:`~convapps.errors.NotAVideoError`. Writing goes to a temporary file beside the target that replaces
it only when the writer closes without an error, so a failure never leaves a half-written video.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import cast

import av
import numpy as np
from av.container import InputContainer
from av.video.stream import VideoStream
from numpy.typing import NDArray

from convapps.errors import InvalidInputError, NotAVideoError, NotFoundError

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov")
"""File suffixes treated as videos (reading recognises the format by content, not by suffix)."""

DEFAULT_FPS = 25.0
"""Frame rate assumed when a file does not state one."""

_IMAGE_FORMATS = frozenset({"image2", "gif", "apng"})
"""FFmpeg demuxers of still images (besides every ``*_pipe`` demuxer): refused as not videos."""

_MUXERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi"}
_ENCODERS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9", ".avi": "mpeg4"}


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds. ``width``/``height`` are the source's; frames come at the work size.

    ``fps`` is the stream's average rate (25 when unknown), ``n_frames`` an estimate (the container's frame
    count, else duration x fps; None when neither is known).
    """

    path: Path
    width: int
    height: int
    fps: float
    duration_s: float | None
    n_frames: int | None
    codec: str
    work_width: int
    work_height: int


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame: its index, its time (seconds after the first frame) and RGB uint8 ``(H, W, 3)``."""

    index: int
    time_s: float
    rgb: NDArray[np.uint8] = field(repr=False)


def work_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Size ``(w, h)`` scaled so the longer side is at most ``max_side``: even sides, aspect kept."""
    scale = min(1.0, max_side / max(width, height))
    return max(2, int(width * scale / 2) * 2), max(2, int(height * scale / 2) * 2)


class VideoReader:
    """Frames of one open video file; iterate once (use :func:`open_video`, a context manager)."""

    def __init__(self, path: Path, *, max_side: int, name: str) -> None:
        self.truncated = False
        """True when iteration stopped early on damaged or missing data (the frames before it came)."""
        self._name = name
        self._container = _open_container(path, name)
        try:
            stream = _video_stream(self._container, name)
            stream.thread_type = "AUTO"
            self._stream = stream
            self.info = _info(path, self._container, stream, max_side)
            self._frames = self._decoded()
            self._first = next(self._frames, None)
        except BaseException:
            self._container.close()
            raise
        if self._first is None:
            self._container.close()
            raise NotAVideoError(f"{name}: not a video file (no frame could be decoded)")

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file and the decoder (safe to call twice)."""
        self._frames.close()
        self._container.close()

    def __iter__(self) -> Iterator[VideoFrame]:
        if self._first is None:
            raise InvalidInputError(f"{self._name}: a video can be iterated only once; open it again")
        first, self._first = self._first, None
        first_pts = first.pts
        fps, width, height = self.info.fps, self.info.work_width, self.info.work_height
        frames = (f for pending in ([first], self._frames) for f in pending)
        end_s = 0.0
        for index, frame in enumerate(frames):
            if frame.pts is not None and first_pts is not None and frame.time_base is not None:
                time_s = float((frame.pts - first_pts) * frame.time_base)
            else:
                time_s = index / fps
            rgb = frame.to_ndarray(format="rgb24", width=width, height=height)
            end_s = time_s + 1 / fps
            yield VideoFrame(index, time_s, np.ascontiguousarray(rgb, dtype=np.uint8))
        stated = _stream_duration(self._stream)
        if stated is not None and end_s < stated - 2 / fps - 0.05:
            self.truncated = True  # the data ended cleanly at a packet boundary, but before the stated end

    def _decoded(self) -> Generator[av.VideoFrame, None, None]:
        """Decoded frames; a damaged or cut-off packet ends the stream (and sets ``truncated``)."""
        stream = self._stream
        try:
            for packet in self._container.demux(stream):
                if packet.is_corrupt:
                    self.truncated = True
                    break
                yield from stream.decode(packet)
        except av.FFmpegError:
            self.truncated = True
        if self.truncated:
            with contextlib.suppress(av.FFmpegError):
                yield from stream.decode(None)  # frames still buffered in the decoder


def open_video(path: str | Path, *, max_side: int = 1280, name: str | None = None) -> VideoReader:
    """Open a video file for reading; frames are scaled so their longer side is at most ``max_side``.

    ``name`` is how messages refer to the file (default: its file name). Raises
    :class:`~convapps.errors.NotFoundError` for a missing file and :class:`~convapps.errors.NotAVideoError`
    for anything that is not a video with at least one decodable frame (images, audio-only files, garbage).
    """
    path = Path(path)
    if max_side < 16:
        raise InvalidInputError(f"max_side must be at least 16 pixels, got {max_side}")
    label = name if name is not None else path.name
    if not path.exists():
        raise NotFoundError(f"{label}: no such file")
    if not path.is_file():
        raise NotAVideoError(f"{label}: not a video file (not a regular file)")
    if path.stat().st_size == 0:
        raise NotAVideoError(f"{label}: not a video file (empty file)")
    return VideoReader(path, max_side=max_side, name=label)


def _open_container(path: Path, name: str) -> InputContainer:
    try:
        container = av.open(str(path), mode="r")
    except av.FFmpegError as err:
        reason = "unrecognised or damaged data" if isinstance(err, av.InvalidDataError) else "cannot be read"
        raise NotAVideoError(f"{name}: not a video file ({reason})") from None
    format_name = container.format.name
    if format_name.endswith("_pipe") or format_name in _IMAGE_FORMATS:
        container.close()
        raise NotAVideoError(f"{name}: not a video file (an image)")
    return container


def _video_stream(container: InputContainer, name: str) -> VideoStream:
    streams = [s for s in container.streams.video if s.codec_context is not None]
    if not streams:
        raise NotAVideoError(f"{name}: has no video stream")
    if not streams[0].width or not streams[0].height:
        raise NotAVideoError(f"{name}: not a video file (the video stream has no frame size)")
    return streams[0]


def _info(path: Path, container: InputContainer, stream: VideoStream, max_side: int) -> VideoInfo:
    rate = stream.average_rate
    fps = float(rate) if rate else DEFAULT_FPS
    duration_s = _stream_duration(stream)
    if duration_s is None and container.duration is not None:
        duration_s = container.duration / av.time_base
    if stream.frames:
        n_frames: int | None = int(stream.frames)
    else:
        n_frames = round(duration_s * fps) if duration_s else None
    work_w, work_h = work_size(stream.width, stream.height, max_side)
    return VideoInfo(
        path, stream.width, stream.height, fps, duration_s, n_frames, stream.codec_context.name, work_w, work_h
    )


def _stream_duration(stream: VideoStream) -> float | None:
    """The video stream's own duration in seconds: its header field, else Matroska's DURATION tag."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    tag = str(stream.metadata.get("DURATION", ""))
    hours, _, rest = tag.partition(":")
    minutes, _, seconds = rest.partition(":")
    try:
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


class VideoWriter:
    """Encode RGB uint8 frames to a video file; the codec follows the suffix.

    ``.mp4``/``.mov``/``.mkv``: H.264 (libx264, ``crf``, ``preset``); ``.webm``: VP9 (libvpx-vp9, ``crf``);
    ``.avi``: MPEG-4 part 2. Pixels are stored as yuv420p, which needs even sides: an odd width or height
    is padded by one pixel (the last column/row repeated). The file appears at ``path`` only when the
    writer closes without an error (an existing file is replaced then, never before).
    """

    def __init__(
        self, path: str | Path, *, fps: float, width: int, height: int, crf: int = 23, preset: str = "veryfast"
    ) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in _MUXERS:
            raise InvalidInputError(f"{self.path.name}: unsupported video suffix; use one of {VIDEO_SUFFIXES}")
        if width < 1 or height < 1 or not fps > 0:
            raise InvalidInputError(f"a video needs a positive size and frame rate, got {width}x{height} at {fps}")
        codec = _ENCODERS[suffix]
        if codec not in av.codecs_available:
            raise InvalidInputError(f"{self.path.name}: this FFmpeg build has no {codec} encoder for {suffix} files")
        if not self.path.parent.is_dir():
            raise NotFoundError(f"{self.path.parent}: no such folder")
        self.width, self.height = width, height
        self._rate = Fraction(fps).limit_denominator(1001)
        self._tmp = self.path.with_name(f".{self.path.stem}.{uuid.uuid4().hex[:8]}.part{suffix}")
        self._container = av.open(str(self._tmp), mode="w", format=_MUXERS[suffix], options=_muxer_options(suffix))
        self._closed = False
        self._count = 0
        try:
            options = _codec_options(codec, crf, preset)
            self._stream = cast(VideoStream, self._container.add_stream(codec, rate=self._rate, options=options))
            self._stream.width, self._stream.height = width + width % 2, height + height % 2
            self._stream.pix_fmt = "yuv420p"
            if codec == "mpeg4":
                self._stream.bit_rate = int(0.2 * self._stream.width * self._stream.height * float(self._rate))
        except BaseException:
            self._abort()
            raise

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abort()

    @property
    def frames_written(self) -> int:
        return self._count

    def write(self, rgb: NDArray[np.uint8]) -> None:
        """Append one RGB uint8 ``(height, width, 3)`` frame."""
        if self._closed:
            raise InvalidInputError(f"{self.path.name}: the video writer is closed")
        if rgb.dtype != np.uint8 or rgb.shape != (self.height, self.width, 3):
            raise InvalidInputError(
                f"frame must be uint8 ({self.height}, {self.width}, 3), got {rgb.dtype} {tuple(rgb.shape)}"
            )
        if self.width % 2 or self.height % 2:
            rgb = np.pad(rgb, ((0, self.height % 2), (0, self.width % 2), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = self._count
        frame.time_base = 1 / self._rate
        try:
            self._container.mux(self._stream.encode(frame))
        except BaseException:
            self._abort()
            raise
        self._count += 1

    def close(self) -> None:
        """Flush the encoder and move the finished file into place (safe to call twice)."""
        if self._closed:
            return
        try:
            self._container.mux(self._stream.encode(None))
            self._container.close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self._abort()
            raise
        self._closed = True

    def _abort(self) -> None:
        """Drop the partial output: close the container quietly and delete the temporary file."""
        self._closed = True
        with contextlib.suppress(av.FFmpegError):
            self._container.close()
        self._tmp.unlink(missing_ok=True)


def _muxer_options(suffix: str) -> dict[str, str]:
    return {"movflags": "+faststart"} if suffix in (".mp4", ".mov") else {}


def _codec_options(codec: str, crf: int, preset: str) -> dict[str, str]:
    if codec == "libx264":
        return {"crf": str(crf), "preset": preset}
    if codec == "libvpx-vp9":
        return {"crf": str(crf), "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"}
    return {}
