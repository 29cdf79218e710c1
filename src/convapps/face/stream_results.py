"""What a face stream reports: each tracked face on a frame, each frame, and each track's summary.

A track's label is "..." (:data:`UNDECIDED`) until it has enough looks, then a name or "not recognized"
(:data:`~convapps.face.recognition.NOT_RECOGNIZED`); :class:`TrackSummary` keeps every look's decision
for the timeline (votes, distances and scores of the person it was compared with).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from convapps.face.openset import Decision
from convapps.face.pipeline import Box
from convapps.face.recognition import NOT_RECOGNIZED

UNDECIDED = "..."
"""The label of a track that has too few looks for a decision yet."""


@dataclass(frozen=True)
class FaceInFrame:
    """One tracked face on one frame: box in the frame's pixels, the track's current label."""

    track: int
    box: Box
    label: str
    name: str | None
    decided: bool
    samples: int
    distance: float | None
    score: float | None

    @property
    def recognized(self) -> bool:
        return self.name is not None

    def to_dict(self) -> dict[str, object]:
        return {
            "track": self.track,
            "box": list(self.box),
            "label": self.label,
            "name": self.name,
            "recognized": self.recognized,
            "decided": self.decided,
            "samples": self.samples,
            "distance": self.distance,
            "score": self.score,
        }


@dataclass(frozen=True)
class FrameResult:
    """What the stream knows on one frame."""

    frame: int
    time_s: float
    detected: bool
    """True when the detector ran on this frame (else tracking only)."""
    width: int
    height: int
    faces: tuple[FaceInFrame, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "frame": self.frame,
            "time_s": round(self.time_s, 4),
            "detected": self.detected,
            "width": self.width,
            "height": self.height,
            "faces": [f.to_dict() for f in self.faces],
        }


def _stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


@dataclass
class TrackSummary:
    """Everything decided about one track: the timeline's row."""

    track: int
    first_s: float
    last_s: float
    frames: int = 0
    """Frames on which the track was shown."""
    detections: int = 0
    decisions: list[Decision] = field(default_factory=list, repr=False)
    embeddings: list[NDArray[np.float32]] = field(default_factory=list, repr=False)
    last_sample_s: float = float("-inf")
    last_check_s: float = float("-inf")
    name: str | None = None
    decided: bool = False

    @property
    def samples(self) -> int:
        return len(self.decisions)

    @property
    def label(self) -> str:
        if not self.decided:
            return UNDECIDED
        return self.name if self.name is not None else NOT_RECOGNIZED

    def votes(self) -> dict[str, int]:
        """Looks per person that accepted them (people the decision named)."""
        return dict(Counter(d.identity.name for d in self.decisions if d.identity is not None))

    def _chosen(self) -> list[Decision]:
        """Looks whose nearest enrolled person is the track's name (or its most frequent nearest)."""
        nearest = [d for d in self.decisions if d.nearest is not None]
        if not nearest:
            return []
        target = self.name or Counter(d.nearest.identity.name for d in nearest if d.nearest).most_common(1)[0][0]
        return [d for d in nearest if d.nearest is not None and d.nearest.identity.name == target]

    def distance(self) -> float | None:
        chosen = self._chosen()
        return statistics.median(d.nearest.distance for d in chosen if d.nearest) if chosen else None

    def score(self) -> float | None:
        chosen = self._chosen()
        return statistics.median(d.score for d in chosen) if chosen else None

    def to_dict(self) -> dict[str, object]:
        chosen = self._chosen()
        return {
            "track": self.track,
            "label": self.label if self.decided else NOT_RECOGNIZED,
            "name": self.name,
            "recognized": self.name is not None,
            "decided": self.decided,
            "first_s": round(self.first_s, 3),
            "last_s": round(self.last_s, 3),
            "frames": self.frames,
            "detections": self.detections,
            "samples": self.samples,
            "votes": self.votes(),
            "nearest": chosen[0].nearest.identity.name if chosen and chosen[0].nearest else None,
            "distance": _stats([d.nearest.distance for d in chosen if d.nearest]),
            "score": _stats([d.score for d in chosen]),
            "tau": self.decisions[-1].threshold.tau if self.decisions else None,
            "tau_reason": self.decisions[-1].threshold.reason if self.decisions else None,
        }
