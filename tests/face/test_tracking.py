"""Tracks between detections: overlap, the correlation tracker following a moving patch, ids kept or renewed."""

from __future__ import annotations

import numpy as np
import pytest

from convapps.errors import InvalidInputError
from convapps.face.pipeline import Box, DetectedFace
from convapps.face.tracking import FaceTracker, TrackerConfig, iou

H, W = 180, 320


def _face(box: Box) -> DetectedFace:
    return DetectedFace(box=box, score=1.0, landmarks=np.zeros((5, 2)))


def _frame(x: int, y: int, side: int = 48, seed: int = 0) -> np.ndarray:
    """A grey picture with one textured square (what the tracker follows) at (x, y)."""
    rng = np.random.default_rng(seed)
    frame = np.full((H, W, 3), 110, np.uint8)
    patch = rng.integers(0, 255, (side // 4, side // 4, 3), dtype=np.uint8).repeat(4, 0).repeat(4, 1)
    frame[y : y + side, x : x + side] = patch
    return frame


def test_iou_of_boxes() -> None:
    assert iou((0, 0, 9, 9), (0, 0, 9, 9)) == 1.0
    assert iou((0, 0, 9, 9), (10, 10, 19, 19)) == 0.0
    assert iou((0, 0, 9, 9), (5, 0, 14, 9)) == pytest.approx(50 / 150)


def test_correlation_tracker_follows_a_moving_patch_between_detections() -> None:
    tracker = FaceTracker()
    [track] = tracker.detected(_frame(40, 60), [_face((40, 60, 87, 107))], 0.0)
    for step in range(1, 11):  # 3 px per frame to the right, 1 down; no detections
        [track] = tracker.follow(_frame(40 + 3 * step, 60 + step), step / 25)
    truth = (70, 70, 117, 117)
    assert iou(track.box, truth) > 0.7, track.box
    assert track.psr > TrackerConfig().min_psr  # the tracker is sure of itself on a clean patch
    assert tracker.motion() > 0.5  # moved more than half a side since its detection


def test_detections_keep_their_track_ids_and_new_faces_get_new_ones() -> None:
    tracker = FaceTracker()
    first = tracker.detected(_frame(40, 60), [_face((40, 60, 87, 107)), _face((200, 40, 247, 87))], 0.0)
    assert [t.id for t in first] == [1, 2]
    moved = [_face((205, 42, 252, 89)), _face((44, 61, 91, 108))]  # order swapped, both moved a little
    again = tracker.detected(_frame(44, 61), moved, 0.2)
    assert {t.id: t.box for t in again} == {1: (44, 61, 91, 108), 2: (205, 42, 252, 89)}
    third = tracker.detected(_frame(44, 61), [*moved, _face((120, 100, 167, 147))], 0.4)
    assert sorted(t.id for t in third) == [1, 2, 3]


def test_a_short_occlusion_keeps_the_id_and_a_long_one_does_not() -> None:
    config = TrackerConfig(max_unconfirmed_s=0.6, max_lost_s=1.5)
    tracker = FaceTracker(config)
    tracker.detected(_frame(40, 60), [_face((40, 60, 87, 107))], 0.0)
    for t in (0.2, 0.4, 0.6, 0.8):  # the face is hidden: detections find nothing
        visible = tracker.detected(_frame(40, 60), [], t)
    assert visible == []  # hidden once unconfirmed for more than 0.6 s
    [back] = tracker.detected(_frame(50, 62), [_face((50, 62, 97, 109))], 1.0)
    assert back.id == 1  # re-linked: near its last box, within max_lost_s
    for t in (1.4, 1.8, 2.2, 2.6, 3.0):
        tracker.detected(_frame(50, 62), [], t)
    [later] = tracker.detected(_frame(50, 62), [_face((52, 62, 99, 109))], 3.2)
    assert later.id == 2  # gone for more than 1.5 s: a new track
    both = tracker.detected(_frame(50, 62), [_face((52, 62, 99, 109)), _face((250, 100, 297, 147))], 3.4)
    assert [t.id for t in both] == [2, 3]  # a detection far from every track is somebody else


def test_tracker_config_is_checked() -> None:
    with pytest.raises(InvalidInputError, match="iou_match"):
        TrackerConfig(iou_match=0)
