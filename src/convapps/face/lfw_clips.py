"""Clip scenarios from LFW photos: known people (enrolled with another photo) and strangers come and go.

People are drawn (deterministically from the seed) among those with at least two LFW photos whose chosen
photos each show exactly one face. A known person appears with one photo and is enrolled with a different
one; strangers are never enrolled. Appearances are laid out in ``max_visible`` vertical lanes (one band of
the frame's width each, so heads never overlap and at most ``max_visible`` are visible at once); each
person appears once or twice in their lane, moving and scaling, some entering from or leaving through an
edge, about a third with one short occlusion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convapps.errors import InvalidInputError
from convapps.face.clip_spec import Appearance, ClipSpec
from convapps.face.lfw import IMAGES_DIR, FaceImage, check_lfw_root, read_people
from convapps.face.pipeline import Box, FacePipeline, default_pipeline
from convapps.io.images import load_image

FACE_SIZES = (80.0, 180.0)
"""Smallest and largest face box side (pixels) at a frame height of 360; scaled with the frame height."""

HEAD_CROP = 1.6
"""Side of the pasted head crop as a multiple of the face box side (the crop is centred a bit above it)."""

EDGE_S = 0.6
"""Seconds a person entering (leaving) takes from the frame's edge to their first (from their last) spot."""

OCCLUSION_S = (0.3, 0.8)
"""Shortest and longest occlusion (seconds)."""


def _people(root: Path) -> dict[str, int]:
    names = root / "lfw-names.txt"
    if names.is_file():
        return read_people(names)
    return {d.name: len(list(d.glob("*.jpg"))) for d in (root / IMAGES_DIR).iterdir() if d.is_dir()}


def head_crop(face: Box, width: int, height: int) -> Box:
    """A square crop (right/bottom exclusive) around a face box, shifted inside a ``width x height`` photo."""
    left, top, right, bottom = face
    side = min(width, height, round(HEAD_CROP * max(right - left + 1, bottom - top + 1)))
    cx, cy = (left + right + 1) / 2, (top + bottom + 1) / 2 - 0.1 * (bottom - top + 1)
    x0 = min(max(0, round(cx - side / 2)), width - side)
    y0 = min(max(0, round(cy - side / 2)), height - side)
    return x0, y0, x0 + side, y0 + side


def _one_face(pipeline: FacePipeline, photo: Path) -> tuple[Box, Box] | None:
    """The face box and head crop of a photo showing exactly one face; None for any other photo."""
    rgb = load_image(photo)
    faces = pipeline.detect(rgb)
    if len(faces) != 1:
        return None
    return faces[0].box, head_crop(faces[0].box, rgb.shape[1], rgb.shape[0])


def _pick_people(
    root: Path, count: int, rng: np.random.Generator, pipeline: FacePipeline
) -> list[tuple[str, Path, tuple[Box, Box], Path]]:
    """``count`` people as (name, shown photo, its face box and head crop, enrollment photo)."""
    people = {name: n for name, n in _people(root).items() if n >= 2}
    names = sorted(people)
    chosen: list[tuple[str, Path, tuple[Box, Box], Path]] = []
    for index in rng.permutation(len(names)):
        if len(chosen) == count:
            break
        name = str(names[int(index)])
        shown, enrolled = (FaceImage(name, int(k) + 1).path(root) for k in rng.choice(people[name], 2, replace=False))
        box = _one_face(pipeline, shown)
        if box is not None and _one_face(pipeline, enrolled) is not None:
            chosen.append((name, shown, box, enrolled))
    if len(chosen) < count:
        raise InvalidInputError(f"{root}: only {len(chosen)} people with two one-face photos, {count} requested")
    return chosen


def _lane_appearances(
    rng: np.random.Generator,
    visits: list[tuple[str, Path, tuple[Box, Box]]],
    lane: tuple[int, int],
    spec_size: tuple[int, int, float],
) -> list[Appearance]:
    """Appearances of one lane: the visits one after another, each in its own slice of the clip."""
    (index, lanes), (width, height, duration_s) = lane, spec_size
    band = (index / lanes, (index + 1) / lanes)
    max_face = min(width / lanes * 0.95, height * 0.9) / HEAD_CROP
    slot = duration_s / len(visits)
    out = []
    for k, (name, photo, (face, crop)) in enumerate(visits):
        length = slot * rng.uniform(0.65, 0.9)
        enter = k * slot + rng.uniform(0, slot - length)
        sizes = [min(max_face, rng.uniform(*FACE_SIZES) * height / 360) * HEAD_CROP for _ in range(2)]
        ends = [_position(rng, band, size, width, height) for size in sizes]
        entry = min(0.25, EDGE_S / length)  # crossing the frame's edge takes EDGE_S, as a person walking in
        waypoints: list[tuple[float, float, float]] = []
        if rng.random() < 1 / 3:  # enter from the lane's edge
            waypoints.append((entry, *ends[0]))
            ends[0] = _edge(rng, ends[0], index, lanes)
        if rng.random() < 1 / 3:  # leave through the lane's edge
            waypoints.append((1.0 - entry, *ends[1]))
            ends[1] = _edge(rng, ends[1], index, lanes)
        occlusions: tuple[tuple[float, float], ...] = ()
        if rng.random() < 1 / 3:
            span = min(rng.uniform(*OCCLUSION_S), 0.4 * length)
            t0 = enter + rng.uniform(0.25, 0.75) * (length - span)
            occlusions = ((t0, t0 + span),)
        out.append(
            Appearance(
                name,
                photo,
                enter,
                enter + length,
                start=ends[0],
                end=ends[1],
                start_size=round(sizes[0]),
                end_size=round(sizes[1]),
                occlusions=occlusions,
                crop=crop,
                face_box=face,
                waypoints=tuple(waypoints),
            )
        )
    return out


def _position(
    rng: np.random.Generator, band: tuple[float, float], size: float, width: int, height: int
) -> tuple[float, float]:
    half_x, half_y = size / 2 / width, size / 2 / height
    lo, hi = band[0] + half_x, band[1] - half_x
    x = rng.uniform(lo, hi) if hi > lo else (band[0] + band[1]) / 2
    y = rng.uniform(max(0.3, half_y), min(0.7, 1 - half_y)) if half_y < 0.5 else 0.5
    return float(x), float(y)


def _edge(rng: np.random.Generator, point: tuple[float, float], index: int, lanes: int) -> tuple[float, float]:
    """``point`` moved onto the frame edge next to the lane (left, right, or top/bottom for middle lanes)."""
    if index == 0 and (lanes > 1 or rng.random() < 0.5):
        return 0.0, point[1]
    if index == lanes - 1:
        return 1.0, point[1]
    return point[0], 0.0 if rng.random() < 0.5 else 1.0


def lfw_scenario(
    lfw_root: str | Path,
    *,
    n_known: int,
    n_strangers: int,
    duration_s: float,
    width: int,
    height: int,
    fps: float = 25,
    seed: int = 0,
    max_visible: int = 3,
    pipeline: FacePipeline | None = None,
) -> tuple[ClipSpec, dict[str, Path]]:
    """A clip of LFW people and the enrollment photo of each known person (name -> photo).

    ``pipeline`` checks that photos show exactly one face and finds the truth boxes (default: the
    process-wide default pipeline).
    """
    if n_known < 0 or n_strangers < 0 or n_known + n_strangers == 0 or max_visible < 1:
        raise InvalidInputError("a scenario needs at least one person and max_visible >= 1")
    root = check_lfw_root(Path(lfw_root))
    rng = np.random.default_rng(seed)
    people = _pick_people(root, n_known + n_strangers, rng, pipeline or default_pipeline())
    lanes = min(max_visible, len(people))
    lane_visits: list[list[tuple[str, Path, tuple[Box, Box]]]] = [[] for _ in range(lanes)]
    for i, (name, shown, box, _) in enumerate(people):
        lane_visits[i % lanes] += [(name, shown, box)] * (1 + int(rng.random() < 0.5))
    appearances = [
        a
        for index, visits in enumerate(lane_visits)
        for a in _lane_appearances(rng, visits, (index, lanes), (width, height, duration_s))
    ]
    appearances.sort(key=lambda a: a.enter_s)
    spec = ClipSpec(width, height, fps, duration_s, tuple(appearances), seed)
    return spec, {name: enrolled for name, _, _, enrolled in people[:n_known]}
