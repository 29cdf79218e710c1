"""``convapps face identify-video``: who appears in a video, when, with an annotated copy and a timeline."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from convapps.cli.face_gallery import _open, gallery_option
from convapps.cli.face_options import build_pipeline


def _write_json_atomic(data: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes):d}:{secs:05.2f}"


@click.command("identify-video")
@click.argument("video", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a copy of the video with boxes, names and track ids (.mp4, .mkv, .mov, .avi, .webm).",
)
@click.option(
    "--json",
    "timeline_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the timeline: each track's name or 'not recognized', first/last time, frames, distances.",
)
@click.option(
    "--far",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.01,
    show_default=True,
    help="False-accept rate of each look at a face (tau chosen for it and the number of people enrolled).",
)
@click.option(
    "--tau", type=click.FloatRange(min=0), default=None, help="A fixed squared-L2 threshold instead; ignores --far."
)
@click.option(
    "--detect-every",
    type=click.IntRange(1),
    default=None,
    help="Run the face detector every N frames (default: about 5 times a second, sooner on fast motion).",
)
@click.option(
    "--small-faces",
    is_flag=True,
    help="Also find faces from ~40 px at the working size (the detector upsamples once: ~4x slower).",
)
@click.option(
    "--max-side",
    type=click.IntRange(160, 4096),
    default=1280,
    show_default=True,
    help="Decode frames at most this many pixels on their longer side (a 4K file is read at this size).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@gallery_option
def identify_video(
    video: Path,
    output: Path | None,
    timeline_path: Path | None,
    far: float,
    tau: float | None,
    detect_every: int | None,
    small_faces: bool,
    max_side: int,
    quiet: bool,
    gallery_url: str | None,
) -> None:
    """Who appears in VIDEO, and when? Faces are detected a few times a second, tracked in between, and
    each track gets one name (or "not recognized") from several looks at it."""
    from tqdm import tqdm

    from convapps.face.stream import StreamConfig
    from convapps.face.video import identify_video as run
    from convapps.io.video import open_video

    config = StreamConfig(far=far, tau=tau, detect_every=detect_every, upsample=1 if small_faces else 0)
    with open_video(video, max_side=max_side) as probe:  # a clear error before any model loads
        total = probe.info.n_frames
    pipeline = build_pipeline("hog", "auto", 0, True, None)
    with _open(gallery_url, pipeline.encoder.space, create=False) as gallery:
        bar = tqdm(total=total, desc="video", unit="frame", file=sys.stderr, disable=quiet, dynamic_ncols=True)
        with bar:

            def progress(result: Any) -> None:
                bar.update(1)
                if result.frame % 25 == 0:
                    bar.set_postfix(tracks=len(result.faces), refresh=False)

            report = run(
                video, gallery, out=output, config=config, pipeline=pipeline, max_side=max_side, on_frame=progress
            )
    if timeline_path is not None:
        _write_json_atomic(report.timeline(), timeline_path)
    if report.truncated:
        click.echo(f"warning: {video.name} is damaged; stopped after {report.frames} frames", err=True)
    click.echo(
        f"{report.frames} frames in {report.seconds:.1f} s ({report.fps:.1f} frames/s), {len(report.tracks)} tracks"
    )
    for track in report.tracks:
        if track.frames == 0:
            continue
        distance = track.distance()
        detail = f", distance {distance:.3f}" if distance is not None else ""
        label = track.label if track.decided else "not recognized (too few looks)"
        click.echo(
            f"  track {track.track}: {label}  {_clock(track.first_s)}-{_clock(track.last_s)}"
            f"  {track.frames} frames, {track.samples} looks{detail}"
        )
    if output is not None:
        click.echo(f"annotated video written to {output}", err=True)
    if timeline_path is not None:
        click.echo(f"timeline written to {timeline_path}", err=True)
