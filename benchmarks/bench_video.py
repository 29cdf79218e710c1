"""Video recognition: ``convapps face identify-video`` vs face_recognition's per-frame loop, same clips.

Clips are rendered from LFW photos with known ground truth (:func:`convapps.face.lfw_clips.lfw_scenario`:
people enter, move, scale, leave, some are briefly hidden; known people are enrolled with a DIFFERENT
photo than the one shown, strangers are never enrolled), at 640x360 and 1280x720, ``--seconds`` long
(default 60), 25 frames/s. The gallery holds the known people plus ``--distractors`` other LFW people
(one photo each) who never appear. Both sides get the same enrolled photos.

* ours: ``identify_video(clip, gallery, out=annotated.mp4)``: decode (PyAV), detect ~5x/s, track, one
  decision per track from several looks, draw and write the annotated copy. Models are warmed first.
* ours with the anchor's decision rule (``tau`` = 0.5^2 on the plain squared distance, no calibration):
  the same rule per look as the anchor per frame, to separate what tracking and voting bring from what
  the calibrated open-set decision trades (a stranger false-accept rate held at 1% per look).
* ours at the anchor's false-accept rate: the anchor's rule has no set FAR; the script measures it on
  this gallery (``--far-probes`` LFW photos of people neither enrolled nor shown, encoded by the anchor:
  the share whose nearest enrolled encoding is within 0.5) and runs ours with ``far`` = that rate.
* anchor: face_recognition 1.3.0 as its video example does it, on every frame it processes:
  ``face_locations`` (HOG, 1 upsampling) + ``face_encodings`` + ``compare_faces(tolerance=0.5)`` (the
  best match among those within tolerance, else "not recognized"). It is slow, so it processes every
  ``--anchor-every``-th frame (default 5); its frames/s is frames processed / its time (decode included).

Accuracy (:mod:`convapps.face.stream_scoring`): per frame, every face in full view must carry the right
label (name, or "not recognized" for a stranger; ours counts "..." while deciding as wrong); per track,
the final label of each track against the person it followed. Needs face_recognition in
``benchmarks/out/fr_pkgs`` (see face_bench_common.py).

    .venv/bin/python benchmarks/bench_video.py                 # both sizes, 60 s clips (~10 min)
    .venv/bin/python benchmarks/bench_video.py --sizes 640x360 --seconds 20   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from convapps.face.clip_spec import GroundTruth
from convapps.face.lfw import FaceImage, read_people
from convapps.face.lfw_clips import lfw_scenario
from convapps.face.pipeline import default_pipeline
from convapps.face.recognition import NOT_RECOGNIZED
from convapps.face.stream import StreamConfig
from convapps.face.stream_results import FrameResult
from convapps.face.stream_scoring import LabelledBox, frame_answers, score_frames, score_tracks
from convapps.face.video import identify_video
from convapps.face.video_clips import render_clip
from convapps.gallery import open_gallery
from convapps.io.images import load_image
from convapps.io.video import open_video
from face_bench_common import LFW, OUT, import_face_recognition

ANCHOR_TOLERANCE = 0.5
"""face_recognition's video example: ``compare_faces(known, encoding, tolerance=0.50)``."""


def distractors(exclude: set[str], count: int, seed: int) -> dict[str, Path]:
    """``count`` LFW people (first photo) not in ``exclude``, chosen by seed."""
    people = sorted(read_people(LFW / "lfw-names.txt"))
    rng = np.random.default_rng(seed + 1000)
    out: dict[str, Path] = {}
    for index in rng.permutation(len(people)):
        name = people[int(index)]
        if name not in exclude and len(out) < count:
            out[name] = FaceImage(name, 1).path(LFW)
    return out


def ours(
    clip: Path, gallery_path: Path, work: Path, *, tau: float | None = None, far: float = 0.01
) -> tuple[list[FrameResult], list, float]:  # type: ignore[type-arg]
    pipe = default_pipeline()
    pipe.encode_chips(np.zeros((1, 150, 150, 3), np.uint8))  # models loaded and warm before the clock starts
    results: list[FrameResult] = []
    config = StreamConfig(tau=tau, far=far)
    with open_gallery(gallery_path, space=pipe.encoder.space) as gallery:
        started = time.perf_counter()
        report = identify_video(
            clip, gallery, out=work / "annotated.mp4", config=config, pipeline=pipe, on_frame=results.append
        )
        seconds = time.perf_counter() - started
    return results, report.tracks, seconds


def anchor_gallery(known: dict[str, Path]) -> tuple[list[str], list[np.ndarray]]:
    fr = import_face_recognition()
    names, encodings = [], []
    for name, photo in known.items():
        found = fr.face_encodings(fr.load_image_file(str(photo)))
        if found:
            names.append(name)
            encodings.append(found[0])
    return names, encodings


def anchor_far(encodings: list[np.ndarray], exclude: set[str], count: int, seed: int) -> float:
    """The anchor rule's per-search false-accept rate on this gallery: the share of ``count`` LFW photos of
    people neither enrolled nor shown whose nearest enrolled encoding is within the tolerance."""
    fr = import_face_recognition()
    probes = distractors(exclude, count, seed + 7)
    accepted = total = 0
    for photo in probes.values():
        found = fr.face_encodings(fr.load_image_file(str(photo)))
        if found:
            total += 1
            accepted += bool(np.min(fr.face_distance(encodings, found[0])) <= ANCHOR_TOLERANCE)
    return accepted / total


def anchor(
    clip: Path, names: list[str], encodings: list[np.ndarray], every: int
) -> tuple[list[list[LabelledBox] | None], float, int]:
    fr = import_face_recognition()
    answers: list[list[LabelledBox] | None] = []
    processed = 0
    started = time.perf_counter()
    with open_video(clip) as reader:
        for frame in reader:
            if frame.index % every:
                answers.append(None)
                continue
            rgb = frame.rgb
            locations = fr.face_locations(rgb)
            shown: list[LabelledBox] = []
            for (top, right, bottom, left), encoding in zip(locations, fr.face_encodings(rgb, locations), strict=True):
                matches = fr.compare_faces(encodings, encoding, tolerance=ANCHOR_TOLERANCE)
                distances = fr.face_distance(encodings, encoding)
                best = int(np.argmin(distances))
                shown.append(((left, top, right, bottom), names[best] if matches[best] else NOT_RECOGNIZED))
            answers.append(shown)
            processed += 1
    return answers, time.perf_counter() - started, processed


def run_size(width: int, height: int, args: argparse.Namespace) -> dict[str, object]:
    folder = OUT / "video"
    folder.mkdir(parents=True, exist_ok=True)
    spec, enrolled = lfw_scenario(
        LFW,
        n_known=args.known,
        n_strangers=args.strangers,
        duration_s=args.seconds,
        width=width,
        height=height,
        seed=args.seed,
    )
    clip = folder / f"clip_{width}x{height}_{args.seconds:g}s_seed{args.seed}.mp4"
    truth = render_clip(spec, clip)
    everyone = {a.name for a in spec.appearances}
    known = {**enrolled, **distractors(everyone, args.distractors, args.seed)}
    pipe = default_pipeline()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        gallery_path = work / "gallery.db"
        with open_gallery(gallery_path, space=pipe.encoder.space) as gallery:
            for name, photo in known.items():
                gallery.enroll(name, pipe.encode_one(load_image(photo), name=name).embedding)
        results, tracks, seconds = ours(clip, gallery_path, work)
        same_rule = ours(clip, gallery_path, work, tau=ANCHOR_TOLERANCE**2)
        names, encodings = anchor_gallery(known)
        far = anchor_far(encodings, everyone | set(known), args.far_probes, args.seed)
        same_far = ours(clip, gallery_path, work, far=min(0.5, max(far, 0.001)))
        anchor_answers, anchor_seconds, anchor_frames = anchor(clip, names, encodings, args.anchor_every)
    row = score(width, height, truth, enrolled, results, tracks, seconds, anchor_answers, anchor_seconds, anchor_frames)
    rule_tracks = score_tracks(same_rule[0], same_rule[1], truth, enrolled)
    row["ours_anchor_rule_track_accuracy"] = rule_tracks.accuracy
    row["ours_anchor_rule_track_named_strangers"] = rule_tracks.named_strangers
    row["ours_anchor_rule_frame_accuracy"] = score_frames(frame_answers(same_rule[0]), truth, enrolled).accuracy
    far_tracks = score_tracks(same_far[0], same_far[1], truth, enrolled)
    row["anchor_far_per_search"] = far
    row["ours_at_anchor_far_track_accuracy"] = far_tracks.accuracy
    row["ours_at_anchor_far_track_named_strangers"] = far_tracks.named_strangers
    row["ours_at_anchor_far_track_errors"] = list(far_tracks.errors)
    print(json.dumps({k: v for k, v in row.items() if "anchor_rule" in k or "anchor_far" in k}), flush=True)
    return row


def score(
    width: int,
    height: int,
    truth: GroundTruth,
    enrolled: dict[str, Path],
    results: list[FrameResult],
    tracks: list,  # type: ignore[type-arg]
    seconds: float,
    anchor_answers: list[list[LabelledBox] | None],
    anchor_seconds: float,
    anchor_frames: int,
) -> dict[str, object]:
    ours_frames = score_frames(frame_answers(results), truth, enrolled)
    ours_tracks = score_tracks(results, tracks, truth, enrolled)
    anchor_score = score_frames(anchor_answers, truth, enrolled)
    row = {
        "size": f"{width}x{height}",
        "frames": len(results),
        "people_shown": len({a.name for a in truth.spec.appearances}),
        "known_shown": len(enrolled),
        "ours_fps": len(results) / seconds,
        "anchor_fps": anchor_frames / anchor_seconds,
        "ours_track_accuracy": ours_tracks.accuracy,
        "ours_tracks": ours_tracks.tracks,
        "ours_tracks_per_visit": ours_tracks.tracks_per_appearance,
        "ours_track_named_strangers": ours_tracks.named_strangers,
        "ours_track_errors": list(ours_tracks.errors),
        "ours_frame_accuracy": ours_frames.accuracy,
        "ours_frame_named_strangers": ours_frames.named_strangers,
        "anchor_frame_accuracy": anchor_score.accuracy,
        "anchor_frames_scored": anchor_frames,
        "anchor_frame_named_strangers": anchor_score.named_strangers,
        "anchor_faces_scored": anchor_score.faces,
    }
    print(json.dumps(row, indent=1), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="640x360,1280x720")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--known", type=int, default=12)
    parser.add_argument("--strangers", type=int, default=12)
    parser.add_argument("--distractors", type=int, default=100)
    parser.add_argument("--anchor-every", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--far-probes", type=int, default=300, help="stranger photos to measure the anchor's FAR")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    rows = []
    for size in args.sizes.split(","):
        width, height = (int(v) for v in size.split("x"))
        rows.append(run_size(width, height, args))
    print(
        "\n| size | ours frames/s | anchor frames/s | speed ratio | ours per-track acc | ours per-frame acc | "
        "ours per-track acc at the anchor's FAR | ours per-track acc, anchor's rule | anchor per-frame acc | "
        "anchor FAR per search | strangers named (ours tracks / anchor frames) |"
    )
    for r in rows:
        print(
            f"| {r['size']} | {r['ours_fps']:.1f} | {r['anchor_fps']:.2f} | {r['ours_fps'] / r['anchor_fps']:.1f}x | "  # type: ignore[operator]
            f"{r['ours_track_accuracy']:.3f} ({r['ours_tracks']} tracks) | {r['ours_frame_accuracy']:.3f} | "
            f"{r['ours_at_anchor_far_track_accuracy']:.3f} | {r['ours_anchor_rule_track_accuracy']:.3f} | "
            f"{r['anchor_frame_accuracy']:.3f} | {r['anchor_far_per_search']:.3f} | "
            f"{r['ours_track_named_strangers']} / {r['anchor_frame_named_strangers']} |"
        )
    (OUT / "video" / "results.json").write_text(json.dumps(rows, indent=1))
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
