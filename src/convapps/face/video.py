"""Identify the people in a video file: every track named or "not recognized", an annotated copy, a timeline.

>>> report = identify_video("meeting.mp4", gallery, out="annotated.mp4")
>>> [(t.track, t.label, t.first_s, t.last_s) for t in report.tracks]

Decoding (PyAV, at a bounded working size) and writing the annotated copy run in background threads, so
they overlap with detection, tracking and encoding (:mod:`convapps.face.stream`) on a second core.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from convapps.face.annotate import draw_tracks
from convapps.face.pipeline import FacePipeline
from convapps.face.stream import StreamConfig, StreamRecognizer
from convapps.face.stream_results import FrameResult, TrackSummary
from convapps.gallery import Gallery
from convapps.io.video import VideoInfo, VideoWriter, open_video

T = TypeVar("T")
_END = object()


@dataclass(frozen=True)
class VideoReport:
    """The outcome of :func:`identify_video`."""

    source: VideoInfo
    frames: int
    """Frames processed."""
    seconds: float
    """Wall time of the whole run (decode, recognise, write)."""
    truncated: bool
    """True when the file was damaged and decoding stopped early (the frames before the damage were used)."""
    tracks: list[TrackSummary]
    output: Path | None
    config: StreamConfig

    @property
    def fps(self) -> float:
        """Frames processed per second of wall time."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def timeline(self) -> dict[str, object]:
        """The JSON-ready timeline: the video, the run, and one row per track."""
        info = self.source
        return {
            "video": str(info.path),
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "duration_s": info.duration_s,
            "frames_processed": self.frames,
            "processing_fps": round(self.fps, 2),
            "truncated": self.truncated,
            "output": str(self.output) if self.output else None,
            "config": {k: v for k, v in asdict(self.config).items() if k != "tracker"},
            "tracks": [t.to_dict() for t in self.tracks],
        }


def _prefetched(items: Iterable[T], depth: int) -> Iterator[T]:
    """Iterate ``items`` in a background thread, ``depth`` items ahead (exceptions re-raised here)."""
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_END)
        except BaseException as exc:  # handed to the consumer
            buffer.put(exc)

    worker = threading.Thread(target=produce, name="convapps-video-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)


class _BackgroundWriter:
    """A VideoWriter fed from a queue by a worker thread; errors surface on the next write or on close."""

    def __init__(self, writer: VideoWriter, depth: int = 8) -> None:
        self._writer = writer
        self._queue: queue.Queue[NDArray[np.uint8] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="convapps-video-encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (frame := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._writer.write(frame)
                except BaseException as exc:  # handed to the producer
                    self._error = exc

    def write(self, frame: NDArray[np.uint8]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(frame)

    def finish(self, ok: bool) -> None:
        """Drain the queue and close the writer; the file is kept only when ``ok`` and no write failed."""
        self._queue.put(None)
        self._thread.join()
        self._writer.__exit__(None if ok and self._error is None else RuntimeError, None, None)
        if ok and self._error is not None:
            raise self._error


def identify_video(
    path: str | Path,
    gallery: Gallery,
    *,
    out: str | Path | None = None,
    config: StreamConfig | None = None,
    pipeline: FacePipeline | None = None,
    max_side: int = 1280,
    on_frame: Callable[[FrameResult], None] | None = None,
) -> VideoReport:
    """Detect, track and identify the faces of a video file; optionally write an annotated copy to ``out``.

    Frames larger than ``max_side`` are decoded at that size (a 4K file costs what a 720p/1080p one
    does). ``on_frame`` is called with each frame's result (progress bars, live views).

    Raises:
        NotFoundError / NotAVideoError: the file is missing, not a video, or has no video stream.
    """
    started = time.perf_counter()
    recognizer = StreamRecognizer(gallery, pipeline=pipeline, config=config)
    frames = 0
    with open_video(path, max_side=max_side) as reader:
        info = reader.info
        writer = None
        if out is not None:
            target = VideoWriter(out, fps=info.fps, width=info.work_width, height=info.work_height)
            target.__enter__()
            writer = _BackgroundWriter(target)
        ok = False
        try:
            for frame in _prefetched(reader, depth=8):
                result = recognizer.process(frame.rgb, frame.time_s)
                frames += 1
                if writer is not None:
                    writer.write(draw_tracks(frame.rgb, result.faces))
                if on_frame is not None:
                    on_frame(result)
            ok = True
        finally:
            if writer is not None:
                writer.finish(ok)
        truncated = reader.truncated
    return VideoReport(
        source=info,
        frames=frames,
        seconds=time.perf_counter() - started,
        truncated=truncated,
        tracks=recognizer.summaries(),
        output=Path(out) if out is not None else None,
        config=recognizer.config,
    )
