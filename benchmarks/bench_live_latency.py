"""End-to-end latency of the Live page: browser camera -> WebSocket -> faces drawn over the video.

Starts ``convapps serve`` (a real uvicorn process) with a temporary gallery, enrolls one LFW person from
one photo through the API, then opens the Live page in headless Chromium whose fake camera plays a
640x360 clip of ANOTHER photo of that person (moving slightly, looped). After the person is named, it
measures for ``--seconds``: end-to-end latency per frame (frame sent -> boxes drawn, the page's own
``window.convappsLive.stats``) p50/p95, the server's share (decode + recognise), and frames/s with one
frame in flight. Prints the time to the first result and to the name too.

    .venv/bin/python benchmarks/bench_live_latency.py --seconds 20
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench_service_load import start_service, stop_service

ROOT = Path(__file__).resolve().parents[1]
LFW = ROOT.parent / "shared" / "data" / "faces" / "lfw" / "lfw-deepfunneled"
CHROMIUM = Path("/usr/bin/chromium")
sys.path.insert(0, str(ROOT / "tests" / "web"))  # the fake camera clip writer the Live tests use
from fake_camera import fake_camera_clip  # noqa: E402


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def drive(url: str, key: str, clip: Path, name: str, seconds: float) -> dict[str, float]:
    """Open the Live page with the fake camera, wait for ``name``, then measure for ``seconds``."""
    from playwright.sync_api import expect, sync_playwright

    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=flags)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/#key={key}")
            page.click("nav a[data-page=live]")
            t0 = time.perf_counter()
            page.click("#live-toggle")
            expect(page.locator("#live-status")).to_have_text(re.compile("frames/s"), timeout=120_000)
            first = time.perf_counter() - t0
            known = page.locator("#live-faces li.known")
            expect(known).to_have_text(re.compile(rf"^#\d+ {re.escape(name)}$"), timeout=120_000)
            named = time.perf_counter() - t0
            before = page.evaluate("window.convappsLive.stats.received")
            time.sleep(seconds)
            stats = page.evaluate("window.convappsLive.stats")
        finally:
            browser.close()
    done = stats["received"] - before
    window = stats["latencies_ms"][-done:] if done else []
    server = stats["server_ms"][-done:] if done else []
    return {
        "first_s": first,
        "named_s": named,
        "frames": done,
        "errors": stats["errors"],
        "fps": done / seconds,
        "p50": percentile(window, 50) if window else float("nan"),
        "p95": percentile(window, 95) if window else float("nan"),
        "server_p50": percentile(server, 50) if server else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time after the name shows (default 20)")
    parser.add_argument("--person", default="Colin_Powell", help="LFW folder: photo 1 enrolls, photo 2 is the camera")
    parser.add_argument("--clip-seconds", type=float, default=2.0, help="length of the looped camera clip")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"no Chromium at {CHROMIUM}: run scripts/install-browser.sh first")
    folder = LFW / args.person
    enroll, camera = folder / f"{args.person}_0001.jpg", folder / f"{args.person}_0002.jpg"
    name = args.person.replace("_", " ")
    with tempfile.TemporaryDirectory() as tmp:
        clip = fake_camera_clip(camera, Path(tmp) / "camera.y4m", seconds=args.clip_seconds)
        proc, url, key = start_service(Path(tmp))
        try:
            response = httpx.post(
                f"{url}/api/people",
                headers={"Authorization": f"Bearer {key}"},
                data={"name": name},
                files={"photo": (enroll.name, enroll.read_bytes(), "image/jpeg")},
                timeout=120,
            )
            response.raise_for_status()
            result = drive(url, key, clip, name, args.seconds)
        finally:
            stop_service(proc)
    print(f"live page, fake camera 640x360 ({args.person} photo 2, enrolled from photo 1), {args.seconds:.0f} s")
    print(f"  first result after {result['first_s']:.1f} s, named after {result['named_s']:.1f} s")
    frames, fps, errors = result["frames"], result["fps"], result["errors"]
    print(f"  frames: {frames:.0f} ({fps:.2f} frames/s, one in flight), errors: {errors:.0f}")
    print(
        f"  latency frame sent -> boxes drawn: p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms; "
        f"server decode + recognise p50 {result['server_p50']:.0f} ms"
    )


if __name__ == "__main__":
    main()
