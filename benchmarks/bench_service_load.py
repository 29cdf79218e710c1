"""Load benchmark of the convapps service: N concurrent clients doing identify on loopback.

Starts ``convapps serve`` (a real uvicorn process) on 127.0.0.1 with a temporary gallery, enrolls
``--people`` LFW persons through the API, then runs ``--clients`` threads, each posting LFW probe photos
(other photos of enrolled people and strangers) to ``POST /api/faces/identify`` for ``--seconds``.
Prints throughput, p50/p95/p99 latency and the error count. The anchor, measured in the same run, is
the library's own ``convapps.face.recognition.identify`` called in-process on the same photos with no
HTTP: the ratio (service / library throughput) is what the HTTP layer, uploads and auth cost.

    .venv/bin/python benchmarks/bench_service_load.py --clients 8 --seconds 60
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

LFW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces" / "lfw" / "lfw-deepfunneled"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pick_people(n: int) -> tuple[list[Path], list[Path]]:
    """``n`` people with >= 2 photos: their first photo enrolls them, the second probes; plus n strangers."""
    enroll, probes = [], []
    for folder in sorted(LFW.iterdir()):
        photos = sorted(folder.glob("*.jpg"))
        if len(photos) >= 2 and len(enroll) < n:
            enroll.append(photos[0])
            probes.append(photos[1])
        elif len(photos) == 1 and len(probes) < 2 * n:
            probes.append(photos[0])
        if len(enroll) == n and len(probes) >= 2 * n:
            break
    return enroll, probes


def drain(proc: subprocess.Popen[str]) -> None:
    """Read and drop the rest of the service's output."""
    for _ in proc.stdout or ():
        pass


def start_service(tmp: Path) -> tuple[subprocess.Popen[str], str, str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "convapps.cli.main",
        "serve",
        "--port",
        str(port),
        "--first-run",
        "--state-dir",
        str(tmp / "state"),
        "--gallery",
        f"sqlite:///{tmp / 'gallery.db'}",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    key = None
    while key is None:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line and proc.poll() is not None:
            raise SystemExit("convapps serve did not start")
        found = re.match(r"^\s+(cvk_\S+)\s*$", line)
        key = found.group(1) if found else None
    # Keep reading the service's output (uvicorn's access log): a full pipe would block its event loop.
    threading.Thread(target=drain, args=(proc,), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    return proc, url, key


def stop_service(proc: subprocess.Popen[str]) -> None:
    """SIGTERM (graceful), then SIGKILL if the service is still finishing queued requests after 30 s."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def run_clients(url: str, key: str, probes: list[bytes], clients: int, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = [0]
    reasons: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as http:
            i = index
            while time.monotonic() < stop:
                data = probes[i % len(probes)]
                i += clients
                t0 = time.perf_counter()
                try:
                    response = http.post("/api/faces/identify", files={"photo": ("probe.jpg", data, "image/jpeg")})
                    ok = response.status_code == 200 and "faces" in response.json()
                    reason = f"HTTP {response.status_code}"
                except httpx.HTTPError as err:
                    ok, reason = False, type(err).__name__
                elapsed = time.perf_counter() - t0
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors[0] += 1
                        reasons[reason] = reasons.get(reason, 0) + 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if reasons:
        print(f"  errors by kind: {reasons}")
    return latencies, errors[0]


def library_throughput(enroll: list[Path], probes: list[bytes], seconds: float) -> tuple[float, list[bytes]]:
    """The anchor: in-process identify calls per second on the same gallery and photos (no HTTP).

    Also returns the probes in which the pipeline finds a face (the load phase uses only those, so an
    error there is a service error, not a photo without a detectable face).
    """
    from convapps.face.enrollment import enroll as enroll_person
    from convapps.face.pipeline import default_pipeline
    from convapps.face.recognition import identify
    from convapps.gallery import open_gallery
    from convapps.io.images import load_image

    pipeline = default_pipeline()
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_gallery(f"sqlite:///{tmp}/g.db", space=pipeline.encoder.space) as gallery,
    ):
        for path in enroll:
            enroll_person(gallery, path.parent.name, [path], pipeline=pipeline)
        usable = [p for p in probes if pipeline.encode_faces(load_image(p))]
        done, i, stop = 0, 0, time.monotonic() + seconds
        t0 = time.perf_counter()
        while time.monotonic() < stop:
            identify(gallery, load_image(usable[i % len(usable)]), pipeline=pipeline)
            done, i = done + 1, i + 1
        return done / (time.perf_counter() - t0), usable


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of the load phase (default 60)")
    parser.add_argument("--people", type=int, default=20, help="people enrolled before the load (default 20)")
    parser.add_argument("--anchor-seconds", type=float, default=20.0, help="duration of the in-process anchor")
    parser.add_argument(
        "--omp-threads",
        type=int,
        default=None,
        help="set OMP_NUM_THREADS for the anchor and the service (default: leave it unset)",
    )
    args = parser.parse_args()
    if args.omp_threads is not None:  # before dlib is imported, here and in the service's process
        os.environ["OMP_NUM_THREADS"] = str(args.omp_threads)
    enroll, probe_paths = pick_people(args.people)
    # The anchor runs in a worker thread, like the service's handlers: dlib called from the main thread
    # uses OpenMP teams that crawl when the cores are oversubscribed (10-40x slower on this shared machine).
    with ThreadPoolExecutor(max_workers=1) as one:
        anchor, probes = one.submit(
            library_throughput, enroll, [p.read_bytes() for p in probe_paths], args.anchor_seconds
        ).result()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, key = start_service(Path(tmp))
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as http:
                for path in enroll:
                    response = http.post(
                        "/api/people",
                        data={"name": path.parent.name.replace("_", " ")},
                        files={"photo": (path.name, path.read_bytes(), "image/jpeg")},
                    )
                    response.raise_for_status()
            latencies, errors = run_clients(url, key, probes, args.clients, args.seconds)
        finally:
            stop_service(proc)
    throughput = len(latencies) / args.seconds
    omp = os.environ.get("OMP_NUM_THREADS", "unset")
    print(
        f"service identify, {args.clients} clients x {args.seconds:.0f} s, {args.people} people enrolled, "
        f"LFW 250x250 probes over loopback, OMP_NUM_THREADS={omp}"
    )
    print(
        f"  probes: {len(probes)} LFW photos with a detectable face; requests ok: {len(latencies)}   errors: {errors}"
    )
    print(
        f"  throughput: {throughput:.2f} req/s   latency p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms, p99 {percentile(latencies, 99) * 1000:.0f} ms"
    )
    print(f"  anchor (library identify in-process, 1 caller): {anchor:.2f} calls/s")
    print(f"  ratio service / library throughput: {throughput / anchor:.2f}")


if __name__ == "__main__":
    main()
