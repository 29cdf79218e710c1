"""Synthetic clips: deterministic frames, truth boxes that follow the spec, occlusions, round trip, LFW scenario."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from convapps.errors import InvalidInputError, NoFaceError, SeveralFacesError
from convapps.face.pipeline import Box, FacePipeline, default_pipeline
from convapps.face.video_clips import (
    Appearance,
    ClipSpec,
    TruthFace,
    frames_of,
    lfw_scenario,
    photo_face_box,
    render_clip,
)
from convapps.io.video import open_video

from .faces_data import blank, two_faces

PHOTO_FACE: Box = (30, 20, 69, 59)
"""Where the synthetic photo's "face" is (a 40 x 40 square, inclusive box)."""

PHOTO_RED = (220, 30, 40)


def iou(a: Box, b: Box) -> float:
    left, top, right, bottom = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, right - left + 1) * max(0, bottom - top + 1)
    area_a = (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
    area_b = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return inter / (area_a + area_b - inter)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A flat red 100 x 100 photo (easy to find in a frame)."""
    path = tmp_path / "person.png"
    Image.new("RGB", (100, 100), PHOTO_RED).save(path)
    return path


def one_person(photo: Path, **changes: object) -> ClipSpec:
    fields: dict[str, object] = {"name": "Ann", "photo": photo, "enter_s": 0.5, "leave_s": 2.5}
    fields.update(start=(0.25, 0.5), end=(0.75, 0.5), start_size=60, end_size=100, face_box=PHOTO_FACE)
    fields.update(changes)
    return ClipSpec(320, 180, 10, 3.0, (Appearance(**fields),), seed=7)  # type: ignore[arg-type]


def expected_photo(t: float) -> tuple[int, int, int]:
    """Top-left corner and side of the pasted photo of :func:`one_person` at time t, from the spec by hand."""
    u = (t - 0.5) / 2.0
    cx, cy, side = 320 * (0.25 + 0.5 * u), 90.0, round(60 + 40 * u)
    return round(cx - side / 2), round(cy - side / 2), side


def expected_box(t: float) -> Box:
    """Truth box of :func:`one_person` at time t: the photo's face box scaled and moved with it."""
    x0, y0, _ = expected_photo(t)
    scale = (60 + 40 * (t - 0.5) / 2.0) / 100
    return x0 + round(30 * scale), y0 + round(20 * scale), x0 + round(70 * scale) - 1, y0 + round(60 * scale) - 1


def test_rendering_is_deterministic_for_a_seed(photo: Path) -> None:
    spec = one_person(photo)
    first = list(frames_of(spec))
    again = list(frames_of(spec))
    other = list(frames_of(ClipSpec(320, 180, 10, 3.0, spec.appearances, seed=8)))
    assert len(first) == spec.n_frames == 30
    assert all(np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0][0], other[0][0])
    assert [f[1] for f in first] == [f[1] for f in other]  # the truth does not depend on the seed
    assert not np.array_equal(first[0][0], first[1][0])  # per-frame noise on the static background
    assert np.abs(first[0][0].astype(int) - first[1][0]).max() <= 6


def test_truth_boxes_move_and_scale_as_specified(photo: Path) -> None:
    frames = list(frames_of(one_person(photo)))
    for index, (rgb, faces) in enumerate(frames):
        t = index / 10
        assert rgb.shape == (180, 320, 3) and rgb.dtype == np.uint8
        if not 0.5 <= t < 2.5:
            assert faces == []
            continue
        assert faces == [TruthFace("Ann", expected_box(t), occluded=False, clipped=False)]
        left, top, right, bottom = faces[0].box
        assert 0 <= left < right < 320 and 0 <= top < bottom < 180
    widths = [f[0].box[2] - f[0].box[0] + 1 for _, f in frames[5:25]]
    assert widths[0] == 24 and abs(widths[-1] - 39.2) <= 1 and widths == sorted(widths)  # 40 px x 0.6 .. 0.98


def test_pasted_photo_is_a_soft_ellipse(photo: Path) -> None:
    rgb, faces = next(f for i, f in enumerate(frames_of(one_person(photo, end=(0.25, 0.5), end_size=60))) if i == 10)
    box = faces[0].box
    centre = rgb[(box[1] + box[3]) // 2, (box[0] + box[2]) // 2].astype(int)
    assert np.abs(centre - PHOTO_RED).max() <= 4
    photo_left, photo_top = 80 - 30, 90 - 30  # the 60 px photo centred at (80, 90)
    corner = rgb[photo_top + 1, photo_left + 1].astype(int)
    assert np.abs(corner - PHOTO_RED).max() > 40  # the corner shows the background, not the photo
    edge_mid = rgb[90, photo_left + 2].astype(int)  # inside the ellipse, in its soft edge: a blend
    assert 0 < np.abs(edge_mid - PHOTO_RED).max() < np.abs(corner - PHOTO_RED).max()


def test_occluded_frames_are_flagged_and_covered_by_a_grey_bar(photo: Path) -> None:
    frames = list(frames_of(one_person(photo, occlusions=((1.0, 1.5),))))
    flags = [faces[0].occluded for _, faces in frames[5:25]]
    assert flags == [False] * 5 + [True] * 5 + [False] * 10
    for index in (10, 14):
        rgb = frames[index][0]
        x0, y0, side = expected_photo(index / 10)
        patch = rgb[y0 - 3 : y0 + side + 3, x0 - 3 : x0 + side + 3].astype(int)  # the photo and a margin
        assert np.abs(patch - 128).max() <= 3
        ring = rgb[y0 - 8 : y0 + side + 8, x0 - 8 : x0 + side + 8].astype(int)
        assert np.abs(ring - 128).max() > 10  # the bar ends near the photo: the background shows around it
    assert not np.any(np.all(np.abs(frames[12][0].astype(int) - PHOTO_RED) <= 6, axis=2))


def test_face_half_out_of_the_frame_is_clipped_then_dropped(photo: Path) -> None:
    spec = one_person(photo, start=(0.0, 0.5), end=(-0.2, 0.5), start_size=80, end_size=80)
    faces = [f for _, f in frames_of(spec)]
    first = faces[5][0]
    assert first.clipped and first.box[0] == 0 and first.box == (0, 66, 15, 97)
    assert all(f == [] for f in faces[8:])  # less than half of the face inside: not listed


def test_render_clip_round_trips_through_open_video(photo: Path, tmp_path: Path) -> None:
    spec = one_person(photo, occlusions=((1.0, 1.2),))
    truth = render_clip(spec, tmp_path / "clip.mp4")
    rendered = [rgb for rgb, _ in frames_of(spec)]
    with open_video(tmp_path / "clip.mp4") as video:
        decoded = [f.rgb for f in video]
    assert (video.info.width, video.info.height, video.info.fps) == (320, 180, 10.0)
    assert len(decoded) == len(truth.frames) == 30
    assert np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(decoded, rendered, strict=True)]) < 4
    truth.save(tmp_path / "clip.json")
    saved = json.loads((tmp_path / "clip.json").read_text())
    assert saved == json.loads(json.dumps(truth.to_dict()))
    assert saved["clip"]["n_frames"] == 30 and saved["clip"]["appearances"][0]["photo"] == str(photo)
    face = {"name": "Ann", "box": list(expected_box(1.0)), "occluded": True, "clipped": False}
    assert saved["frames"][10] == {"frame": 10, "time_s": 1.0, "faces": [face]}


def test_invalid_specs_are_refused(photo: Path) -> None:
    with pytest.raises(InvalidInputError, match="enter_s < leave_s"):
        one_person(photo, enter_s=2.0, leave_s=1.0)
    with pytest.raises(InvalidInputError, match="t0 < t1"):
        one_person(photo, occlusions=((1.0, 1.0),))
    with pytest.raises(InvalidInputError, match="at least 16x16"):
        ClipSpec(8, 8, 25, 1.0, ())
    with pytest.raises(InvalidInputError, match="not inside the photo"):
        list(frames_of(one_person(photo, crop=(0, 0, 200, 50))))


# ---- real LFW photos and the real detector ----


@pytest.fixture(scope="module")
def pipe() -> FacePipeline:
    return default_pipeline()


def save_rgb(rgb: NDArray[np.uint8], path: Path) -> Path:
    Image.fromarray(rgb).save(path)
    return path


def test_photo_needs_exactly_one_face(shared_data: Path, pipe: FacePipeline, tmp_path: Path) -> None:
    with pytest.raises(NoFaceError, match=r"^blank\.png: no face found; a clip photo needs exactly one face$"):
        photo_face_box(pipe, save_rgb(blank(), tmp_path / "blank.png"))
    with pytest.raises(SeveralFacesError, match=r"^two\.png: 2 faces found"):
        photo_face_box(pipe, save_rgb(two_faces(shared_data), tmp_path / "two.png"))
    spec = ClipSpec(64, 64, 5, 1.0, (Appearance("X", tmp_path / "blank.png", 0.0, 1.0),))
    with pytest.raises(NoFaceError):
        next(frames_of(spec, pipeline=pipe))


def lfw_spec(shared_data: Path, pipe: FacePipeline, seed: int = 3) -> tuple[ClipSpec, dict[str, Path]]:
    root = shared_data / "faces" / "lfw"
    return lfw_scenario(root, n_known=3, n_strangers=2, duration_s=2.0, width=320, height=180, seed=seed, pipeline=pipe)


def test_lfw_scenario(shared_data: Path, pipe: FacePipeline) -> None:
    spec, enrolled = lfw_spec(shared_data, pipe)
    assert lfw_spec(shared_data, pipe) == (spec, enrolled)  # deterministic for a seed
    assert lfw_spec(shared_data, pipe, seed=4)[1] != enrolled
    names = {a.name for a in spec.appearances}
    assert len(names) == 5 and len(enrolled) == 3 and set(enrolled) < names
    for a in spec.appearances:
        assert a.photo.is_file() and a.photo.parent.name == a.name
        if a.name in enrolled:
            assert enrolled[a.name] != a.photo and enrolled[a.name].parent == a.photo.parent
        assert 0 <= a.enter_s < a.leave_s <= 2.0
    counts = [sum(a.visible(i / 25) for a in spec.appearances) for i in range(spec.n_frames)]
    assert max(counts) <= 3 and max(counts) >= 2


def test_detector_finds_every_visible_truth_face(shared_data: Path, pipe: FacePipeline) -> None:
    spec, _ = lfw_spec(shared_data, pipe)
    checked = 0
    for index, (rgb, faces) in enumerate(frames_of(spec, pipeline=pipe)):
        if index % 5:
            continue
        found = [f.box for f in pipe.detect(rgb)]
        for face in faces:
            if face.occluded or face.clipped:
                continue
            assert max((iou(face.box, box) for box in found), default=0.0) > 0.5, (index, face, found)
            checked += 1
    assert checked >= 10
