"""Recognition on a stream: tracks named once from several looks, strangers never named, ids kept or split.

Clips are rendered from LFW photos (:mod:`convapps.face.video_clips`), so the truth is known frame by frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convapps.errors import InvalidInputError
from convapps.face.clip_spec import Appearance, ClipSpec, GroundTruth
from convapps.face.lfw_clips import lfw_scenario
from convapps.face.pipeline import default_pipeline
from convapps.face.recognition import NOT_RECOGNIZED
from convapps.face.stream import StreamConfig, StreamRecognizer, recognise_stream
from convapps.face.stream_results import UNDECIDED, FrameResult
from convapps.face.stream_scoring import frame_answers, score_frames, score_tracks
from convapps.face.video_clips import frames_of
from convapps.gallery import Gallery, open_gallery

from .faces_data import lfw


def _gallery(tmp_path: Path, people: dict[str, Path]) -> Gallery:
    pipe = default_pipeline()
    gallery = open_gallery(tmp_path / "g.db", space=pipe.encoder.space)
    for name, photo in people.items():
        from convapps.io.images import load_image

        gallery.enroll(name, pipe.encode_one(load_image(photo), name=name).embedding)
    return gallery


def _run(
    spec: ClipSpec, gallery: Gallery, config: StreamConfig | None = None
) -> tuple[list[FrameResult], GroundTruth, StreamRecognizer]:
    recognizer = StreamRecognizer(gallery, config=config)
    results, truth = [], []
    for index, (rgb, faces) in enumerate(frames_of(spec)):
        results.append(recognizer.process(rgb, index / spec.fps))
        truth.append(faces)
    return results, GroundTruth(spec, truth), recognizer


def test_lfw_scenario_every_track_named_right_and_no_stranger_named(shared_data: Path, tmp_path: Path) -> None:
    spec, enrolled = lfw_scenario(
        shared_data / "faces" / "lfw", n_known=2, n_strangers=2, duration_s=8, width=640, height=360, seed=3
    )
    gallery = _gallery(tmp_path, enrolled)
    results, truth, recognizer = _run(spec, gallery)
    tracks = score_tracks(results, recognizer.summaries(), truth, enrolled)
    frames = score_frames(frame_answers(results), truth, enrolled)
    assert tracks.named_strangers == 0 and frames.named_strangers == 0
    assert tracks.accuracy == 1.0, [s.to_dict() for s in recognizer.summaries()]
    assert tracks.spurious == 0 and tracks.tracks_per_appearance <= 1.2
    assert frames.accuracy >= 0.85 and frames.missed <= 0.05 * frames.faces  # "..." while deciding counts as wrong
    detected = sum(r.detected for r in results)
    assert detected <= 0.3 * len(results)  # tracking, not detecting, on most frames
    summaries = [s for s in recognizer.summaries() if s.frames]
    assert all(s.decided and 3 <= s.samples <= 5 for s in summaries)


def test_a_stranger_stepping_into_a_members_place_is_a_new_track(shared_data: Path, tmp_path: Path) -> None:
    """Bush leaves and a stranger appears at the same spot 0.4 s later: the lost track is re-linked by place,
    then split by appearance, so the stranger never carries Bush's name."""
    gallery = _gallery(tmp_path, {"George_W_Bush": lfw(shared_data, "George_W_Bush", 1)})
    spot = {"start": (0.5, 0.5), "end": (0.52, 0.5), "start_size": 200, "end_size": 200}
    spec = ClipSpec(
        640,
        360,
        25,
        4.4,
        (
            Appearance("George_W_Bush", lfw(shared_data, "George_W_Bush", 10), 0.0, 2.0, **spot),  # type: ignore[arg-type]
            Appearance("Colin_Powell", lfw(shared_data, "Colin_Powell", 2), 2.4, 4.4, **spot),  # type: ignore[arg-type]
        ),
    )
    results, truth, recognizer = _run(spec, gallery)
    named = {f.name for r in results if r.time_s >= 2.4 for f in r.faces}
    assert "George_W_Bush" not in named
    labels = {s.track: s.label for s in recognizer.summaries() if s.frames}
    assert sorted(labels.values()) == ["George_W_Bush", NOT_RECOGNIZED]
    assert score_tracks(results, recognizer.summaries(), truth, {"George_W_Bush"}).accuracy == 1.0


def test_a_short_occlusion_keeps_the_track_id(shared_data: Path, tmp_path: Path) -> None:
    gallery = _gallery(tmp_path, {"Tony_Blair": lfw(shared_data, "Tony_Blair", 1)})
    spec = ClipSpec(
        640,
        360,
        25,
        4.0,
        (
            Appearance(
                "Tony_Blair",
                lfw(shared_data, "Tony_Blair", 5),
                0.0,
                4.0,
                start=(0.3, 0.5),
                end=(0.6, 0.5),
                start_size=190,
                end_size=210,
                occlusions=((1.6, 2.2),),
            ),
        ),
    )
    results, _, recognizer = _run(spec, gallery)
    hidden = [r for r in results if 1.75 <= r.time_s < 2.2]
    assert hidden and all(not r.faces for r in hidden[-3:])  # nothing drawn on the grey bar at the end
    ids = {f.track for r in results for f in r.faces}
    assert ids == {1}
    [summary] = recognizer.summaries()
    assert summary.label == "Tony_Blair" and summary.frames >= 0.8 * len(results)


def test_empty_gallery_names_nobody_and_bare_frames_are_timed_by_fps(shared_data: Path, tmp_path: Path) -> None:
    gallery = open_gallery(tmp_path / "empty.db", space=default_pipeline().encoder.space)
    spec = ClipSpec(
        480, 270, 10, 1.0, (Appearance("x", lfw(shared_data, "Tony_Blair", 5), 0.0, 1.0, start_size=180, end_size=180),)
    )
    frames = [rgb for rgb, _ in frames_of(spec)]
    results = list(recognise_stream(frames, gallery, fps=10))
    assert [r.time_s for r in results[:3]] == pytest.approx([0.0, 0.1, 0.2])
    faces = [f for r in results for f in r.faces]
    assert faces and all(f.label == NOT_RECOGNIZED and f.decided for f in faces)
    assert results[0].to_dict()["faces"][0]["label"] == NOT_RECOGNIZED


def test_frames_and_configs_are_checked(tmp_path: Path) -> None:
    gallery = open_gallery(tmp_path / "g.db", space=default_pipeline().encoder.space)
    recognizer = StreamRecognizer(gallery)
    with pytest.raises(InvalidInputError, match=r"RGB uint8 \(H, W, 3\) frame"):
        recognizer.process(np.zeros((40, 40), np.uint8))
    with pytest.raises(InvalidInputError, match="min_samples"):
        StreamConfig(min_samples=6, samples_per_track=5)
    with pytest.raises(InvalidInputError, match="detect_every"):
        StreamConfig(detect_every=0)
    with pytest.raises(InvalidInputError, match="fps"):
        list(recognise_stream([], gallery, fps=0))
    blank = recognizer.process(np.full((90, 160, 3), 128, np.uint8), 0.0)
    assert blank.to_dict() == {"frame": 0, "time_s": 0.0, "detected": True, "width": 160, "height": 90, "faces": []}
    assert UNDECIDED == "..."
