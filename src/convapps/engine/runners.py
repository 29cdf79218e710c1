"""Map a per-item function over many items: in local worker processes (``local``) or as Ray Data batch
inference (``ray``: an embedded local Ray by default, or the cluster at ``ray_address``).

A worker is built once per process (or Ray actor) by calling ``make_worker()``, which must be picklable
(a module-level function or a :func:`functools.partial` of one); the worker maps one item to one row,
a ``dict`` of picklable values, returned exactly as the worker built it. Results come back as
they finish, not in input order. Each worker limits its math libraries (torch, BLAS, OpenMP) to
``threads_per_worker`` threads, so N workers use N x threads cores and a machine shared with other jobs
slows down in proportion instead of spinning idle threads.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal

from convapps.errors import EngineError, InvalidInputError

Row = dict[str, Any]
Worker = Callable[[Any], Row]
WorkerFactory = Callable[[], Worker]
EngineKind = Literal["local", "ray"]


@dataclass(frozen=True)
class EngineConfig:
    """Where and how wide batch work runs.

    Attributes:
        kind: ``ray`` (default: Ray Data; embedded local Ray unless ``ray_address``) or ``local``
            (a pool of worker processes, no Ray).
        workers: worker processes or Ray actors (None: one per core, or the cluster's CPUs for Ray).
        threads_per_worker: math-library threads inside each worker (1: one core per worker).
        ray_address: a running Ray cluster (``ray://head:10001`` or ``auto``); None starts Ray in-process.
        batch_size: items handed to a Ray actor at a time.
    """

    kind: EngineKind = "ray"
    workers: int | None = None
    threads_per_worker: int = 1
    ray_address: str | None = None
    batch_size: int = 8

    def __post_init__(self) -> None:
        if self.kind not in ("local", "ray"):
            raise InvalidInputError(f"engine must be 'local' or 'ray', got {self.kind!r}")
        if self.workers is not None and self.workers < 1:
            raise InvalidInputError(f"workers must be >= 1, got {self.workers}")
        if self.threads_per_worker < 1 or self.batch_size < 1:
            raise InvalidInputError("threads_per_worker and batch_size must be >= 1")
        if self.ray_address is not None and self.kind != "ray":
            raise InvalidInputError("a Ray address needs the ray engine")

    @property
    def n_workers(self) -> int:
        """Workers to start on this machine."""
        return self.workers if self.workers is not None else max(1, os.cpu_count() or 1)


def limit_threads(threads: int) -> None:
    """Cap torch, BLAS and OpenMP pools of this process at ``threads``."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


_WORKER: list[Worker] = []


def _init_local(make_worker: WorkerFactory, threads: int) -> None:
    limit_threads(threads)
    _WORKER[:] = [make_worker()]


def _call_local(item: Any) -> Row:
    return _WORKER[0](item)


def _map_local(items: Sequence[Any], make_worker: WorkerFactory, config: EngineConfig) -> Iterator[Row]:
    workers = min(config.n_workers, max(1, len(items)))
    if workers == 1:
        _init_local(make_worker, config.threads_per_worker)
        for item in items:
            yield _call_local(item)
        return
    # never plain fork: a child forked after torch's OpenMP pool started hangs (GNU libgomp)
    ctx = mp.get_context("forkserver") if sys.platform.startswith("linux") else mp.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_init_local, initargs=(make_worker, config.threads_per_worker)
    ) as pool:
        pending: set[Future[Row]] = set()
        queue = iter(items)
        for item in queue:  # keep a few items per worker in flight, not the whole list
            pending.add(pool.submit(_call_local, item))
            if len(pending) >= 4 * workers:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                nxt = next(queue, _END)
                if nxt is not _END:
                    pending.add(pool.submit(_call_local, nxt))


_END = object()


class _RayWorker:
    """A Ray Data actor: builds the worker once, maps a batch of items to a batch of columns."""

    def __init__(self, make_worker: WorkerFactory, threads: int) -> None:
        limit_threads(threads)
        self.worker = make_worker()

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[bytes]]:
        # each row travels pickled, so its values come back exactly (Arrow would turn an all-None column
        # into NaN and lists into arrays)
        return {"row": [pickle.dumps(self.worker(_plain(item))) for item in batch["item"]]}


def _map_ray(items: Sequence[Any], make_worker: WorkerFactory, config: EngineConfig) -> Iterator[Row]:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is a dependency
        raise InvalidInputError("the ray engine needs the 'ray[data]' package; use the local engine") from exc
    if not items:
        return
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
        if config.ray_address is None:
            # one slot beyond the actors' for Ray Data's own tasks (splitting, collecting), or they wait
            kwargs["num_cpus"] = config.n_workers * config.threads_per_worker + 1
            start_local_ray(ray, kwargs)
        else:
            ray.init(address=config.ray_address, **kwargs)
    import logging

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # our own progress bar reports progress
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        # Ray Data reserves half the CPUs per operator by default; on a small machine the actor pool then
        # waits for slots it can never get. The actors are the only heavy operator here.
        context.op_resource_reservation_enabled = False
        if config.ray_address is None or config.workers is not None:
            workers = min(config.n_workers, len(items))
        else:  # a cluster: one actor per threads_per_worker of its CPUs
            cpus = int(ray.cluster_resources().get("CPU", 1))
            workers = max(1, min(cpus // config.threads_per_worker, len(items)))
        dataset = ray.data.from_items([{"item": item} for item in items], override_num_blocks=min(len(items), 200))
        mapped = dataset.map_batches(
            _RayWorker,
            fn_constructor_args=(make_worker, config.threads_per_worker),
            compute=ray.data.ActorPoolStrategy(size=workers),
            batch_size=config.batch_size,
            num_cpus=config.threads_per_worker,
            batch_format="numpy",
        )
        for batch in mapped.iter_batches(batch_size=None, batch_format="numpy"):
            for payload in batch["row"]:
                yield pickle.loads(payload)
    finally:
        if started_here:
            ray.shutdown()


def start_local_ray(ray: Any, kwargs: dict[str, Any], *, attempts: int = 2) -> None:
    """``ray.init(**kwargs)`` for an embedded Ray, tried ``attempts`` times: now and then the local raylet
    never registers and Ray gives up after 30 s (seen on a busy 2-core machine); a second start works.
    EngineError (one line) if none does."""
    for attempt in range(1, attempts + 1):
        try:
            ray.init(**kwargs)
            return
        except Exception as exc:  # Ray raises a bare Exception when its node does not come up
            ray.shutdown()
            if attempt == attempts:
                first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise EngineError(
                    f"the embedded Ray did not start after {attempts} tries ({first_line}); "
                    "run again or use --engine local"
                ) from exc


def _plain(value: Any) -> Any:
    """An item from a Ray batch (a numpy scalar) as the plain Python value it was."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def map_items(items: Sequence[Any], make_worker: WorkerFactory, config: EngineConfig | None = None) -> Iterator[Row]:
    """``make_worker()(item)`` for every item, on the configured engine; rows in completion order."""
    cfg = config or EngineConfig()
    if cfg.kind == "local":
        return _map_local(items, make_worker, cfg)
    return _map_ray(items, make_worker, cfg)
