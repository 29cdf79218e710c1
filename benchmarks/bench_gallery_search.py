"""Gallery search speed on synthetic unit-norm 128-d galleries (10k, 100k, 1M identities).

For each size: p50/p99 latency of one probe and of a batch of 100 probes, memory of the search
structure, enroll throughput, and recall@1 against exact search, for
  * linear scan   -- face_recognition's ``face_distance``/``compare_faces``: ``np.linalg.norm(known - probe, axis=1)``
                     (the anchor; it has no batch API, so a batch is 100 calls);
  * sqlite exact  -- ``open_gallery(path)``: one matrix product over cached encodings + SQL lookup of the names;
  * sqlite hnsw   -- ``open_gallery(path, mode="ann")``: usearch HNSW (M=16, ef_construction=128, ef=128);
  * sqlite ivf    -- ``open_gallery(path, mode="ann", ann=IvfParams())``: FAISS IVF-Flat, nlist = sqrt(N),
                     nprobe swept (8 ... 128; 48 is the library default, chosen from these runs);
  * milvus exact / milvus ann -- Milvus Lite (FLAT / HNSW M=16, ef=128) via pymilvus, through ``MilvusGallery``.
Probes are enrolled vectors plus Gaussian noise (squared distance ~0.25 to their source, like another
photo of an enrolled person); recall@1 is also reported for uniformly random probes (strangers), where
the nearest neighbour is barely nearer than the others and every engine's answer is far above tau.

    .venv/bin/python benchmarks/bench_gallery_search.py [--sizes 10000 100000 1000000] [--milvus-max 100000]
        [--ann hnsw ivf] [--hnsw-max 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out" / "gallery_search"
DIM = 128


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def latencies(
    fn: Callable[[np.ndarray], object], probes: np.ndarray, *, max_s: float = 20, max_n: int = 300
) -> np.ndarray:
    """Seconds per call of ``fn`` on successive probes (at least 10 calls, at most max_n or ~max_s)."""
    fn(probes[0])  # warm-up
    times: list[float] = []
    start = time.perf_counter()
    for i in range(min(max_n, len(probes))):
        t = time.perf_counter()
        fn(probes[i])
        times.append(time.perf_counter() - t)
        if i >= 9 and time.perf_counter() - start > max_s:
            break
    return np.array(times)


def batch_latencies(
    fn: Callable[[np.ndarray], object], probes: np.ndarray, *, reps: int = 5, max_s: float = 30
) -> np.ndarray:
    times: list[float] = []
    start = time.perf_counter()
    for r in range(reps):
        batch = probes[(r * 100) % len(probes) :][:100]
        t = time.perf_counter()
        fn(batch)
        times.append(time.perf_counter() - t)
        if time.perf_counter() - start > max_s:
            break
    return np.array(times)


def row(
    name: str,
    n: int,
    single: np.ndarray,
    batch: np.ndarray,
    mem_mb: float,
    enroll_per_s: float,
    recall: float,
    recall_random: float,
    extra: dict[str, float] | None = None,
) -> dict[str, object]:
    r = {
        "engine": name,
        "n": n,
        "p50_ms": float(np.percentile(single, 50) * 1e3),
        "p99_ms": float(np.percentile(single, 99) * 1e3),
        "batch100_p50_ms": float(np.percentile(batch, 50) * 1e3),
        "batch100_p99_ms": float(np.percentile(batch, 99) * 1e3),
        "memory_mb": mem_mb,
        "enroll_per_s": enroll_per_s,
        "recall@1": recall,
        "recall@1_random": recall_random,
        **(extra or {}),
    }
    print(
        f"  {name:13s} p50 {r['p50_ms']:9.3f} ms  p99 {r['p99_ms']:9.3f} ms"
        f"  batch100 p50 {r['batch100_p50_ms']:9.2f} ms  mem {mem_mb:8.1f} MB  enroll {enroll_per_s:10.0f}/s"
        f"  recall@1 {recall:.4f} (random {recall_random:.3f})",
        flush=True,
    )
    return r


def top1(gallery: object, probes: np.ndarray) -> np.ndarray:
    found = gallery.search(probes)  # type: ignore[attr-defined]
    return np.array([int(m[0].identity.name) for m in found])


def bench_size(
    n: int,
    *,
    milvus: bool,
    ann_kinds: list[str],
    hnsw_max: int,
    nprobes: list[int],
    search_threads: int = 0,
    seed: int = 0,
) -> list[dict[str, object]]:
    from convapps.gallery import EmbeddingSpace, HnswParams, IvfParams, open_gallery

    print(f"\n== N = {n:,} identities", flush=True)
    rng = np.random.default_rng(seed)
    known = unit(rng, n)
    src = rng.integers(0, n, size=1000)
    near = known[src] + rng.standard_normal((1000, DIM), dtype=np.float32) * np.float32(0.5 / np.sqrt(DIM))
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    strangers = unit(rng, 300)
    space = EmbeddingSpace("synthetic-unit-128", DIM)
    folder = OUT / f"n{n}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rows: list[dict[str, object]] = []

    # anchor: face_recognition's face_distance, one probe at a time
    def linear(probe: np.ndarray) -> int:
        return int(np.argmin(np.linalg.norm(known - probe, axis=1)))

    from convapps.gallery.exact import EncodingMatrix

    single = latencies(linear, near)
    # beyond 100k, 100 sequential calls would take minutes: use 100 x the single-probe times
    small = n <= 100_000
    batch = batch_latencies(lambda b: [linear(p) for p in b], near, reps=3, max_s=20) if small else single * 100
    matrix = EncodingMatrix(known, np.arange(n, dtype=np.int64))
    truth_near = matrix.nearest(near, 1)[0][:, 0]
    truth_rand = matrix.nearest(strangers, 1)[0][:, 0]
    del matrix
    assert all(linear(near[i]) == truth_near[i] for i in range(10)), "exact search disagrees with the linear scan"
    rows.append(
        row("linear scan", n, single, batch, known.nbytes / 2**20, float("nan"), float(np.mean(truth_near == src)), 1.0)
    )

    # SQLite, exact
    t = time.perf_counter()
    with open_gallery(folder / "g.db", space=space) as g:
        for lo in range(0, n, 10_000):
            g.enroll_many([(str(i), known[i], None) for i in range(lo, min(n, lo + 10_000))])
    enroll_rate = n / (time.perf_counter() - t)
    exact = open_gallery(folder / "g.db", space=space)
    t = time.perf_counter()
    exact.build_index()  # type: ignore[attr-defined]
    load_s = time.perf_counter() - t
    mem = (exact._matrix.vectors.nbytes + exact._matrix.sq_norms.nbytes + exact._matrix.owners.nbytes) / 2**20  # type: ignore[attr-defined]
    single, batch = latencies(exact.search, near), batch_latencies(exact.search, near)
    found = top1(exact, near)
    assert (found == truth_near).all(), "exact search disagrees with the linear scan"
    rows.append(
        row(
            "sqlite exact",
            n,
            single,
            batch,
            mem,
            enroll_rate,
            float(np.mean(found == truth_near)),
            float(np.mean(top1(exact, strangers) == truth_rand)),
            {"load_s": load_s},
        )
    )
    exact.close()

    # SQLite + an approximate index: usearch HNSW and/or FAISS IVF (nprobe swept)
    for kind in ann_kinds:
        if kind == "hnsw" and n > hnsw_max:
            print(f"  sqlite hnsw   skipped at N={n:,} (build > 1 h on this shared 2-core machine)", flush=True)
            continue
        params = HnswParams() if kind == "hnsw" else IvfParams()
        ann = open_gallery(folder / "g.db", space=space, mode="ann", ann=params)
        t = time.perf_counter()
        ann.build_index()  # type: ignore[attr-defined]
        build_s = time.perf_counter() - t
        mem = ann._ann.memory_bytes / 2**20  # type: ignore[attr-defined]
        if kind == "ivf" and search_threads:
            import faiss

            faiss.omp_set_num_threads(search_threads)  # build used every core; search like the others
        for knob in nprobes if kind == "ivf" else (None,):
            if knob is not None:
                ann._ann._index.nprobe = knob  # type: ignore[attr-defined]
            name = f"sqlite {kind}" + (f" np{knob}" if knob else "")
            single, batch = latencies(ann.search, near), batch_latencies(ann.search, near)
            rows.append(
                row(
                    name,
                    n,
                    single,
                    batch,
                    mem,
                    n / build_s,
                    float(np.mean(top1(ann, near) == truth_near)),
                    float(np.mean(top1(ann, strangers) == truth_rand)),
                    {"build_s": build_s},
                )
            )
        ann.close()

    if milvus:  # Milvus Lite's FLAT search is slow: fewer probes there (p = probes used)
        url = f"milvus:///{folder / 'm.db'}"
        rss0 = rss_mb()
        t = time.perf_counter()
        with open_gallery(url, space=space) as g:
            for lo in range(0, n, 10_000):
                g.enroll_many([(str(i), known[i], None) for i in range(lo, min(n, lo + 10_000))])
            enroll_rate = n / (time.perf_counter() - t)
            single = latencies(g.search, near, max_n=50, max_s=15)
            batch = batch_latencies(g.search, near, reps=1)
            rows.append(
                row(
                    "milvus exact",
                    n,
                    single,
                    batch,
                    rss_mb() - rss0,
                    enroll_rate,
                    float(np.mean(top1(g, near[:50]) == truth_near[:50])),
                    float(np.mean(top1(g, strangers[:50]) == truth_rand[:50])),
                )
            )
        t = time.perf_counter()
        with open_gallery(url, space=space, mode="ann") as g:
            build_s = time.perf_counter() - t
            single, batch = latencies(g.search, near, max_n=300), batch_latencies(g.search, near, reps=5)
            rows.append(
                row(
                    "milvus ann",
                    n,
                    single,
                    batch,
                    rss_mb() - rss0,
                    n / build_s,
                    float(np.mean(top1(g, near) == truth_near)),
                    float(np.mean(top1(g, strangers) == truth_rand)),
                    {"build_s": build_s},
                )
            )
    shutil.rmtree(folder, ignore_errors=True)
    return rows


def per_identity_enroll_rate(count: int = 1000) -> float:
    """Identities/s when every enroll is its own durable transaction (SQLite, synchronous=FULL)."""
    from convapps.gallery import EmbeddingSpace, open_gallery

    folder = OUT / "per_identity"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    vectors = unit(np.random.default_rng(1), count)
    with open_gallery(folder / "g.db", space=EmbeddingSpace("synthetic-unit-128", DIM)) as g:
        t = time.perf_counter()
        for i, v in enumerate(vectors):
            g.enroll(str(i), v)
        rate = count / (time.perf_counter() - t)
    shutil.rmtree(folder, ignore_errors=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--milvus-max",
        type=int,
        default=100_000,
        help="largest gallery also run on Milvus Lite (its pure-Python insert is slow)",
    )
    parser.add_argument(
        "--ann",
        nargs="+",
        choices=["hnsw", "ivf"],
        default=["hnsw", "ivf"],
        help="approximate indexes to run for SQLite",
    )
    parser.add_argument(
        "--hnsw-max",
        type=int,
        default=100_000,
        help="largest gallery that gets an HNSW index (its build is slow on 2 cores)",
    )
    parser.add_argument(
        "--nprobe", type=int, nargs="+", default=[8, 16, 32, 64, 128], help="IVF cells scanned per probe (swept)"
    )
    parser.add_argument("--threads", type=int, default=2, help="BLAS / usearch threads")
    parser.add_argument(
        "--search-threads",
        type=int,
        default=0,
        help="FAISS threads while searching (0: FAISS default; 1 avoids OpenMP oversubscription)",
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} CPUs shared with other jobs, load average {os.getloadavg()}", flush=True)
    rate = per_identity_enroll_rate()
    print(f"sqlite enroll, one durable transaction per identity: {rate:.0f} identities/s", flush=True)
    rows: list[dict[str, object]] = []
    for n in args.sizes:
        rows.extend(
            bench_size(
                n,
                milvus=n <= args.milvus_max,
                ann_kinds=args.ann,
                hnsw_max=args.hnsw_max,
                nprobes=args.nprobe,
                search_threads=args.search_threads,
            )
        )
        print(f"  load average {os.getloadavg()}", flush=True)
        result_file = OUT / f"results-{'-'.join(map(str, args.sizes))}.json"
        result_file.write_text(json.dumps({"per_identity_enroll_per_s": rate, "rows": rows}, indent=1))
    print("\nratio of the linear scan's p50 to each engine's p50 (single probe):")
    for n in args.sizes:
        base = next(r for r in rows if r["n"] == n and r["engine"] == "linear scan")
        for r in rows:
            if r["n"] == n and r["engine"] != "linear scan":
                print(f"  N={n:>9,} {r['engine']:13s} {base['p50_ms'] / r['p50_ms']:8.1f}x", flush=True)
    print(f"results: {OUT}/results-*.json", file=sys.stderr)


if __name__ == "__main__":
    main()
