"""Face recognition on a stream of frames (a video file or a live camera): detect, track, decide per track.

>>> for result in recognise_stream(frames, gallery):       # frames: RGB arrays or (time_s, rgb) pairs
...     print(result.time_s, [(f.track, f.label) for f in result.faces])

Per frame the work is cheap: the detector runs a few times a second (``detections_per_second``, sooner
when a tracker is unsure or a face moved fast), the correlation tracker follows faces in between
(:mod:`convapps.face.tracking`). Encodings are taken only on detection frames, and only until a track has
``samples_per_track`` looks at least ``sample_gap_s`` apart (the detector runs that often while a track
is deciding); then it costs one look every ``recheck_s``, to check it still follows the same face.

One identity per track: each look gets the gallery's calibrated open-set decision
(:func:`convapps.face.openset.decide`, per-search false-accept rate ``far``), and the track is named only
when a strict majority of its looks, at least ``min_samples`` of them, name the same person; otherwise it
is "not recognized". A stranger must fool most of several looks, not one: however alike the looks are,
a track names a stranger no more often than one look does (``far``), and less often when they differ.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from convapps.core.distances import pairwise_squared_l2
from convapps.core.openset import mean_template
from convapps.errors import InvalidInputError
from convapps.face.openset import DEFAULT_FAR, calibration_for, decide
from convapps.face.pipeline import FacePipeline, default_pipeline
from convapps.face.stream_results import FaceInFrame, FrameResult, TrackSummary
from convapps.face.tracking import FaceTracker, Track, TrackerConfig
from convapps.gallery import Gallery


@dataclass(frozen=True)
class StreamConfig:
    """How a stream is processed. Defaults run faster than real time at 1280x720 on 2 CPU cores.

    Attributes:
        work_side: frames are detected and tracked at this longer side (smaller frames as they are);
            boxes are reported in the frame's own pixels.
        detections_per_second: how often the detector runs when tracking goes well (every ``sample_gap_s``
            while a track is still deciding).
        detect_every: a fixed detection interval in frames instead (1 = every frame).
        upsample: detector upsampling steps: 0 finds faces from ~80 px at ``work_side``; 1 from ~40 px
            (4x the detector time).
        samples_per_track: looks (encodings) a track collects for its decision.
        min_samples: looks needed before a track gets a name or "not recognized".
        sample_gap_s: smallest time between two looks of one track (consecutive frames look alike).
        far: per-search false-accept rate of each look's decision (the gallery-size aware tau).
        tau: a fixed tau instead (plain squared L2 to the nearest photo).
        recheck_s: a decided track takes one more look this often to check it still follows the same face
            (a tracker can slide onto a neighbour); re-linked tracks are checked at once.
        same_face_tau: squared L2 from a look to the mean of the track's looks above which it is somebody
            else and the track is split (None: the encoder's verification tau).
        refound_face_tau: the stricter limit for a face found again after the detector missed it (behind
            something, or gone and somebody else in its place): looks of one face seconds apart are
            typically < 0.2 apart, so a look further than this starts a new track; a person split by
            mistake only waits for a new decision, a stranger merged by mistake would carry a name.
        tracker: how detections become tracks.
    """

    work_side: int = 640
    detections_per_second: float = 5.0
    detect_every: int | None = None
    upsample: int = 0
    samples_per_track: int = 5
    min_samples: int = 3
    sample_gap_s: float = 0.1
    far: float = DEFAULT_FAR
    tau: float | None = None
    recheck_s: float = 2.0
    same_face_tau: float | None = None
    refound_face_tau: float = 0.3
    tracker: TrackerConfig = field(default_factory=TrackerConfig)

    def __post_init__(self) -> None:
        if self.work_side < 64:
            raise InvalidInputError(f"work_side must be >= 64 pixels, got {self.work_side}")
        if (
            self.recheck_s <= 0
            or self.refound_face_tau <= 0
            or (self.same_face_tau is not None and self.same_face_tau <= 0)
        ):
            raise InvalidInputError("recheck_s, same_face_tau and refound_face_tau must be > 0")
        if self.detections_per_second <= 0:
            raise InvalidInputError(f"detections_per_second must be > 0, got {self.detections_per_second}")
        if self.detect_every is not None and self.detect_every < 1:
            raise InvalidInputError(f"detect_every must be >= 1 frame, got {self.detect_every}")
        if not 0 <= self.upsample <= 2:
            raise InvalidInputError(f"upsample must be 0, 1 or 2, got {self.upsample}")
        if not 1 <= self.min_samples <= self.samples_per_track:
            raise InvalidInputError(
                f"need 1 <= min_samples <= samples_per_track, got {self.min_samples} and {self.samples_per_track}"
            )


class StreamRecognizer:
    """Recognise faces frame after frame; one instance per video or camera session (not thread-safe)."""

    def __init__(
        self, gallery: Gallery, *, pipeline: FacePipeline | None = None, config: StreamConfig | None = None
    ) -> None:
        self.gallery = gallery
        self.pipeline = pipeline or default_pipeline()
        self.config = config or StreamConfig()
        self._tracker = FaceTracker(self.config.tracker)
        self._calibration = calibration_for(self.pipeline.encoder.space.model_id)
        tau = self.config.same_face_tau
        self._same_face_tau = float(tau if tau is not None else self.pipeline.default_tau)
        self._summaries: dict[int, TrackSummary] = {}
        self._frame = 0
        self._last_detection_s = float("-inf")
        self._last_detection_frame = -(10**9)

    def summaries(self) -> list[TrackSummary]:
        """Every track seen so far, in order of appearance."""
        return sorted(self._summaries.values(), key=lambda s: s.track)

    def _should_detect(self, time_s: float) -> bool:
        config = self.config
        if config.detect_every is not None:
            return self._frame - self._last_detection_frame >= config.detect_every
        interval = 1.0 / config.detections_per_second
        if any(t.id not in self._summaries or not self._summaries[t.id].decided for t in self._tracker.visible):
            interval = min(interval, config.sample_gap_s)  # a track still deciding: look again soon
        if time_s - self._last_detection_s >= interval - 1e-6:
            return True
        if self._frame - self._last_detection_frame < 2:  # never two detections in a row on tracker trouble
            return False
        return self._tracker.unsure or self._tracker.motion() > 0.5

    def process(self, rgb: NDArray[np.uint8], time_s: float | None = None) -> FrameResult:
        """Detect or track on one RGB frame, sample and decide tracks, and return what is on it.

        ``time_s``: the frame's time in seconds (default: frame number / 25)."""
        frame = np.asarray(rgb)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise InvalidInputError(f"expected an RGB uint8 (H, W, 3) frame, got {frame.dtype} {frame.shape}")
        t = float(self._frame / 25.0 if time_s is None else time_s)
        height, width = frame.shape[:2]
        scale = min(1.0, self.config.work_side / max(height, width))
        work = frame if scale == 1.0 else _resized(frame, scale)
        detect = self._should_detect(t)
        if detect:
            faces = self.pipeline.detect(work, upsample=self.config.upsample)
            tracks = self._tracker.detected(work, faces, t)
            self._last_detection_s, self._last_detection_frame = t, self._frame
            self._sample(work, tracks, t)
        else:
            tracks = self._tracker.follow(work, t)
        shown = tuple(self._shown(track, t, scale, width, height) for track in tracks)
        result = FrameResult(self._frame, t, detect, width, height, shown)
        self._frame += 1
        return result

    def _sample(self, work: NDArray[np.uint8], tracks: list[Track], time_s: float) -> None:
        """Encode the detected faces of tracks that need a look (to decide, or to check they still follow
        the same face), split tracks that turned out to follow somebody else, and decide."""
        config = self.config
        wanted: list[tuple[Track, TrackSummary, bool]] = []
        for track in tracks:
            summary = self._summary(track, time_s)
            if track.face is None:
                continue
            summary.detections += 1
            check = bool(summary.embeddings) and (track.relinked or time_s - summary.last_check_s >= config.recheck_s)
            more = summary.samples < config.samples_per_track and time_s - summary.last_sample_s >= (
                config.sample_gap_s - 1e-6
            )
            if check or more:
                wanted.append((track, summary, check))
        if not wanted:
            return
        faces = [track.face for track, _, _ in wanted if track.face is not None]
        embeddings = self.pipeline.encode_chips(np.stack([self.pipeline.align(work, face) for face in faces]))
        looks: list[tuple[TrackSummary, NDArray[np.float32]]] = []
        for (track, summary, check), embedding in zip(wanted, embeddings, strict=True):
            limit = config.refound_face_tau if track.relinked else self._same_face_tau
            if check and _squared_distance(embedding, summary.embeddings) > limit:
                summary = self._summary(self._tracker.split(track, time_s), time_s)
                summary.detections = 1
            summary.last_check_s = time_s
            if summary.samples < config.samples_per_track:
                looks.append((summary, embedding))
        if not looks:
            return
        if len(self.gallery) == 0:  # nobody can be recognised
            for summary, _ in looks:
                summary.decided, summary.name = True, None
            return
        decisions = decide(
            self.gallery,
            np.stack([e for _, e in looks]),
            far=config.far,
            tau=config.tau,
            fallback_tau=self.pipeline.default_tau,
            calibration=self._calibration,
        )
        for (summary, embedding), decision in zip(looks, decisions, strict=True):
            summary.decisions.append(decision)
            summary.embeddings.append(embedding)
            summary.last_sample_s = time_s
            self._decide(summary)

    def _decide(self, summary: TrackSummary) -> None:
        """Name the track when a strict majority of its looks (at least ``min_samples``) name one person."""
        n = summary.samples
        if n < self.config.min_samples:
            return
        votes = Counter(d.identity.name for d in summary.decisions if d.identity is not None)
        best = votes.most_common(1)
        summary.decided = True
        summary.name = best[0][0] if best and best[0][1] * 2 > n else None

    def _summary(self, track: Track, time_s: float) -> TrackSummary:
        summary = self._summaries.get(track.id)
        if summary is None:
            summary = self._summaries[track.id] = TrackSummary(track.id, time_s, time_s)
        return summary

    def _shown(self, track: Track, time_s: float, scale: float, width: int, height: int) -> FaceInFrame:
        summary = self._summary(track, time_s)
        summary.last_s = time_s
        summary.frames += 1
        box = track.box
        if scale != 1.0:
            box = (
                round(box[0] / scale),
                round(box[1] / scale),
                min(width - 1, round(box[2] / scale)),
                min(height - 1, round(box[3] / scale)),
            )
        return FaceInFrame(
            track.id,
            box,
            summary.label,
            summary.name,
            summary.decided,
            summary.samples,
            summary.distance(),
            summary.score(),
        )


def _squared_distance(embedding: NDArray[np.float32], looks: list[NDArray[np.float32]]) -> float:
    """Squared L2 from one look to the template of a track's looks (:func:`~convapps.core.openset.mean_template`),
    in the encoder's own units, like its verification tau."""
    return float(pairwise_squared_l2(embedding[None], mean_template(np.stack(looks))[None])[0, 0])


def _resized(frame: NDArray[np.uint8], scale: float) -> NDArray[np.uint8]:
    height, width = frame.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0))


def recognise_stream(
    frames: Iterable[NDArray[np.uint8] | tuple[float, NDArray[np.uint8]]],
    gallery: Gallery,
    *,
    pipeline: FacePipeline | None = None,
    config: StreamConfig | None = None,
    fps: float = 25.0,
) -> Iterator[FrameResult]:
    """Recognise faces in a stream of RGB frames (or ``(time_s, rgb)`` pairs; bare frames are timed by ``fps``)."""
    if fps <= 0:
        raise InvalidInputError(f"fps must be > 0, got {fps}")
    recognizer = StreamRecognizer(gallery, pipeline=pipeline, config=config)
    for index, item in enumerate(frames):
        if isinstance(item, tuple):
            time_s, rgb = item
        else:
            time_s, rgb = index / fps, item
        yield recognizer.process(rgb, time_s)
