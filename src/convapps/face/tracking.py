"""Face tracks between detections: dlib's correlation tracker, detection-to-track association, re-linking.

A video shows the same face in hundreds of frames. Detecting in every frame is slow, so the detector runs
every few frames and a correlation tracker (Danelljan et al.'s scale-adaptive DSST, dlib's
``correlation_tracker``, ~5 ms per face per frame whatever the face size) follows each face in between.
On a detection frame every detection is matched to the track whose current box overlaps it most
(greedy, IoU >= ``iou_match``); a detection nobody claims first tries to re-link a track lost less than
``max_lost_s`` ago whose last box was nearby (a face that went behind something keeps its id; the stream
checks by appearance that it is the same face and :meth:`FaceTracker.split` s the track when it is not),
and otherwise starts a new track. A track not confirmed by a detection for ``max_unconfirmed_s``, or missed
by the detector while its tracker is unsure, is hidden (lost); lost for ``max_lost_s`` it ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convapps.errors import InvalidInputError
from convapps.face.pipeline import Box, DetectedFace
from convapps.models.dlib_face import dlib_module


@dataclass(frozen=True)
class TrackerConfig:
    """How detections become tracks.

    Attributes:
        iou_match: smallest box overlap (intersection over union) that ties a detection to a track.
        min_psr: tracker confidence (peak-to-sidelobe ratio) below which a track counts as unsure and
            the next frame gets a detection.
        max_unconfirmed_s: a track no detection confirmed for this long is hidden (lost).
        max_lost_s: a lost track that no detection re-linked for this long ends for good.
        relink_distance: a new detection re-links a lost track when their box centres are closer than
            this many box sides (and their sizes differ by less than 2x).
    """

    iou_match: float = 0.3
    min_psr: float = 7.0
    max_unconfirmed_s: float = 0.6
    max_lost_s: float = 1.5
    relink_distance: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.iou_match <= 1:
            raise InvalidInputError(f"iou_match must be in (0, 1], got {self.iou_match}")
        if self.max_unconfirmed_s <= 0 or self.max_lost_s < 0 or self.relink_distance < 0:
            raise InvalidInputError("tracker time limits and relink distance must be positive")


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two inclusive (left, top, right, bottom) boxes."""
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, right - left + 1) * max(0, bottom - top + 1)
    area_a = (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
    area_b = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


def _side(box: Box) -> float:
    return float(max(box[2] - box[0] + 1, box[3] - box[1] + 1))


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0


@dataclass
class Track:
    """One face followed over time (boxes in the tracker's working image)."""

    id: int
    box: Box
    first_s: float
    confirmed_s: float
    """When a detection last matched this track."""
    last_seen_s: float
    face: DetectedFace | None = None
    """The detection that matched on the current frame (None between detections)."""
    psr: float = float("inf")
    lost: bool = False
    relinked: bool = False
    """True on the frame a detection found this track again after the detector had missed it (re-linked
    by place after being lost, or matched again after a missed detection): its identity is worth checking."""
    missed: bool = False
    """The last detection frame did not find this track's face."""
    box_at_detection: Box = (0, 0, 0, 0)
    _tracker: Any = field(default=None, repr=False)


class FaceTracker:
    """Keeps the tracks of one stream; feed it every frame, with detections on detection frames."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._dlib = dlib_module()
        self._tracks: list[Track] = []
        self._next_id = 1

    @property
    def visible(self) -> list[Track]:
        """Tracks shown on the current frame (not lost), oldest first."""
        return [t for t in self._tracks if not t.lost]

    @property
    def unsure(self) -> bool:
        """True when some visible track's tracker is unsure: the next frame should get a detection."""
        return any(t.psr < self.config.min_psr for t in self.visible)

    def motion(self) -> float:
        """Largest movement of a visible track since its last detection, in box sides."""
        moves = [
            float(np.hypot(*np.subtract(_centre(t.box), _centre(t.box_at_detection)))) / _side(t.box)
            for t in self.visible
        ]
        return max(moves, default=0.0)

    def follow(self, image: NDArray[np.uint8], time_s: float) -> list[Track]:
        """Move every visible track with its correlation tracker (a frame without detection)."""
        height, width = image.shape[:2]
        for track in self.visible:
            track.face = None
            track.psr = float(track._tracker.update(image))
            pos = track._tracker.get_position()
            box = (
                max(0, round(pos.left())),
                max(0, round(pos.top())),
                min(width - 1, round(pos.right())),
                min(height - 1, round(pos.bottom())),
            )
            if box[2] <= box[0] or box[3] <= box[1]:  # followed off the picture
                track.lost = True
                continue
            track.box = box
            track.last_seen_s = time_s
        self._expire(time_s)
        return self.visible

    def detected(self, image: NDArray[np.uint8], faces: list[DetectedFace], time_s: float) -> list[Track]:
        """Associate this frame's detections with tracks (matched, re-linked or new); returns visible tracks."""
        for track in self._tracks:
            track.face = None
            track.relinked = False
        claimed: set[int] = set()
        pairs = sorted(
            ((iou(f.box, t.box), fi, t.id) for fi, f in enumerate(faces) for t in self.visible),
            reverse=True,
        )
        taken_faces: set[int] = set()
        for overlap, fi, tid in pairs:
            if overlap < self.config.iou_match:
                break
            if fi in taken_faces or tid in claimed:
                continue
            taken_faces.add(fi)
            claimed.add(tid)
            matched = self._by_id(tid)
            matched.relinked = matched.missed
            self._confirm(matched, image, faces[fi], time_s)
        for track in self.visible:
            if track.id not in claimed:
                track.missed = True
                if track.psr < self.config.min_psr:  # the detector missed it and the tracker lost it: gone
                    track.lost = True
        unmatched = [f for fi, f in enumerate(faces) if fi not in taken_faces]
        for face in unmatched:
            relinked = self._relink(face, claimed)
            if relinked is not None:
                relinked.relinked = True
                track = relinked
            else:
                track = Track(self._next_id, face.box, time_s, time_s, time_s)
                self._next_id += 1
                self._tracks.append(track)
            claimed.add(track.id)
            self._confirm(track, image, face, time_s)
        self._expire(time_s)
        return self.visible

    def split(self, track: Track, time_s: float) -> Track:
        """Give ``track`` a new id from now on (it turned out to follow somebody else)."""
        track.id = self._next_id
        self._next_id += 1
        track.first_s = time_s
        track.relinked = False
        return track

    def _by_id(self, track_id: int) -> Track:
        return next(t for t in self._tracks if t.id == track_id)

    def _confirm(self, track: Track, image: NDArray[np.uint8], face: DetectedFace, time_s: float) -> None:
        track.box = track.box_at_detection = face.box
        track.face = face
        track.lost = track.missed = False
        track.confirmed_s = track.last_seen_s = time_s
        track.psr = float("inf")
        track._tracker = self._dlib.correlation_tracker()
        track._tracker.start_track(image, self._dlib.rectangle(*face.box))

    def _relink(self, face: DetectedFace, claimed: set[int]) -> Track | None:
        """The nearest lost track this detection continues, if any is close enough in place and size."""
        best: tuple[float, Track] | None = None
        for track in self._tracks:
            if not track.lost or track.id in claimed:
                continue
            side, last = _side(face.box), _side(track.box)
            if not 0.5 <= side / last <= 2.0:
                continue
            gap = float(np.hypot(*np.subtract(_centre(face.box), _centre(track.box)))) / max(side, last)
            if gap <= self.config.relink_distance and (best is None or gap < best[0]):
                best = (gap, track)
        return best[1] if best else None

    def _expire(self, time_s: float) -> None:
        for track in self._tracks:
            if time_s - track.confirmed_s > self.config.max_unconfirmed_s:
                track.lost = True
        self._tracks = [t for t in self._tracks if not t.lost or time_s - t.confirmed_s <= self.config.max_lost_s]
