"""How right a video's answers are, against a clip's ground truth: per frame and per track.

Per frame: every truth face that is fully in view (not occluded, not cut by the frame's edge) should carry
the right label on a box overlapping it (IoU >= ``MATCH_IOU``): the person's name when they are enrolled,
"not recognized" when they are a stranger. A face without a box, with a box still deciding ("..."), or
with the wrong label counts as wrong.

Per track: each track follows mostly one truth person (the majority of its matched frames); it is right
when its final label is that person's name (enrolled) or "not recognized" (stranger). A track that never
overlapped a truth face is spurious and counts as wrong unless it said "not recognized".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from convapps.face.clip_spec import GroundTruth, TruthFace
from convapps.face.pipeline import Box
from convapps.face.recognition import NOT_RECOGNIZED
from convapps.face.stream_results import FrameResult, TrackSummary
from convapps.face.tracking import iou

MATCH_IOU = 0.3
"""Smallest overlap between an answer's box and a truth face's box for the answer to be about that face."""

LabelledBox = tuple[Box, str]
"""An answer on one frame: a box and its label (a name, "not recognized", or "..." while deciding)."""


@dataclass(frozen=True)
class FrameScore:
    """Per-frame identity accuracy over the truth faces in full view."""

    faces: int
    correct: int
    missed: int
    """Faces in full view that no answer's box overlapped."""
    named_strangers: int
    """Stranger faces that got a name (the worst error)."""

    @property
    def accuracy(self) -> float:
        return self.correct / self.faces if self.faces else 0.0


@dataclass(frozen=True)
class TrackScore:
    """Per-track identity accuracy."""

    tracks: int
    correct: int
    spurious: int
    named_strangers: int
    """Tracks that followed a stranger and gave them a name."""
    tracks_per_appearance: float
    """Tracks per visit of a person (1.0: each visit kept one id, occlusions included)."""
    errors: tuple[str, ...] = ()
    """One line per wrong track: what it said and whom it followed."""

    @property
    def accuracy(self) -> float:
        return self.correct / self.tracks if self.tracks else 0.0


def expected_label(name: str, known: Collection[str]) -> str:
    """What a face of ``name`` should be called: the name when enrolled, else "not recognized"."""
    return name if name in known else NOT_RECOGNIZED


def _in_full_view(face: TruthFace) -> bool:
    return not face.occluded and not face.clipped


def _match(truth: Sequence[TruthFace], answers: Sequence[LabelledBox]) -> dict[int, int]:
    """Greedy one-to-one matching by IoU: truth index -> answer index."""
    pairs = sorted(
        ((iou(t.box, a[0]), ti, ai) for ti, t in enumerate(truth) for ai, a in enumerate(answers)), reverse=True
    )
    matched: dict[int, int] = {}
    used: set[int] = set()
    for overlap, ti, ai in pairs:
        if overlap < MATCH_IOU:
            break
        if ti not in matched and ai not in used:
            matched[ti] = ai
            used.add(ai)
    return matched


def score_frames(
    answers: Sequence[Sequence[LabelledBox] | None], truth: GroundTruth, known: Collection[str]
) -> FrameScore:
    """Per-frame accuracy of ``answers[i]`` (the labelled boxes shown on frame ``i``); frames answered None
    (a run that processed only some frames) are skipped."""
    faces = correct = missed = named_strangers = 0
    for index, shown in enumerate(answers):
        if index >= len(truth.frames):
            break
        if shown is None:
            continue
        visible = [t for t in truth.frames[index] if _in_full_view(t)]
        matched = _match(visible, shown)
        for ti, face in enumerate(visible):
            faces += 1
            if ti not in matched:
                missed += 1
                continue
            label = shown[matched[ti]][1]
            want = expected_label(face.name, known)
            correct += label == want
            named_strangers += want == NOT_RECOGNIZED and label not in (NOT_RECOGNIZED, "...")
    return FrameScore(faces, correct, missed, named_strangers)


def frame_answers(results: Sequence[FrameResult]) -> list[list[LabelledBox]]:
    """The labelled boxes a stream showed on each frame."""
    return [[(f.box, f.label) for f in r.faces] for r in results]


def score_tracks(
    results: Sequence[FrameResult], summaries: Sequence[TrackSummary], truth: GroundTruth, known: Collection[str]
) -> TrackScore:
    """Per-track accuracy of a stream's final labels, and how many tracks each visit of a person took."""
    followed: dict[int, Counter[tuple[str, int]]] = {}
    for result in results:
        if result.frame >= len(truth.frames):
            break
        faces = truth.frames[result.frame]
        shown = [(f.box, f.label) for f in result.faces]
        for ti, ai in _match(faces, shown).items():
            visit = _visit(truth, faces[ti].name, result.frame)
            followed.setdefault(result.faces[ai].track, Counter())[(faces[ti].name, visit)] += 1
    correct = spurious = named_strangers = 0
    errors: list[str] = []
    shown_tracks = [s for s in summaries if s.frames > 0]
    visits: Counter[tuple[str, int]] = Counter()
    for summary in shown_tracks:
        final = summary.name if summary.name is not None else NOT_RECOGNIZED
        if summary.track not in followed:
            spurious += 1
            correct += final == NOT_RECOGNIZED
            if final != NOT_RECOGNIZED:
                errors.append(f"track {summary.track} said {final!r} on no face")
            continue
        (name, visit), _ = followed[summary.track].most_common(1)[0]
        visits[(name, visit)] += 1
        want = expected_label(name, known)
        correct += final == want
        named_strangers += want == NOT_RECOGNIZED and final != NOT_RECOGNIZED
        if final != want:
            errors.append(
                f"track {summary.track} said {final!r} of {name} ({'enrolled' if name in known else 'stranger'}; "
                f"{summary.samples} looks, {summary.frames} frames)"
            )
    per_visit = sum(visits.values()) / len(visits) if visits else 0.0
    return TrackScore(len(shown_tracks), correct, spurious, named_strangers, per_visit, tuple(errors))


def _visit(truth: GroundTruth, name: str, frame: int) -> int:
    """Which visit of ``name`` (index among their appearances) frame ``frame`` belongs to."""
    t = frame / truth.spec.fps
    mine = [a for a in truth.spec.appearances if a.name == name]
    return next((i for i, a in enumerate(mine) if a.visible(t)), 0)
