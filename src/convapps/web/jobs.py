"""A bounded pool of background jobs (style transfer, top-patches) with progress, results and expiry.

Requests never run long work themselves: they submit a job and return its id at once. At most
``workers`` jobs run at a time; at most ``queue`` are waiting or running, and more are refused with
``ServiceBusyError`` (503). One key may hold at most ``per_owner`` of those slots (the service sets half), so
no single key can fill the queue; more are refused with ``TooManyRequestsError`` (429). Both carry a
``Retry-After``. Each job belongs to the API key that submitted it; other keys see 404.
Finished jobs, with their result images, are forgotten after ``ttl_s`` seconds.
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from convapps.errors import ConvappsError, NotFoundError
from convapps.web.errors import ServiceBusyError, TooManyRequestsError, redact_paths

log = logging.getLogger("convapps.web.jobs")

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"done", "failed", "cancelled"})
RETRY_AFTER_S = 10.0
"""``Retry-After`` of a refused submission: about the time a short job takes to free its slot."""


class JobCancelled(Exception):
    """Raised inside a job's work when its owner cancelled it."""


@dataclass(frozen=True)
class JobResult:
    """One output of a job: an image (or other file) with a caption."""

    name: str
    media_type: str
    data: bytes = field(repr=False)
    caption: str = ""


@dataclass
class Job:
    """The state of one job; read it through :meth:`JobPool.get`, which returns a consistent copy."""

    id: str
    kind: str
    owner: str
    created: float
    state: JobState = "queued"
    progress: float = 0.0
    message: str = "waiting for a free worker"
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    results: tuple[JobResult, ...] = ()
    preview: bytes | None = field(default=None, repr=False)
    params: dict[str, object] = field(default_factory=dict)


class Progress:
    """Handed to a job's work function: report progress, publish a preview, notice cancellation."""

    def __init__(self, pool: JobPool, job_id: str, cancel: threading.Event) -> None:
        self._pool, self._job_id, self._cancel = pool, job_id, cancel

    def __call__(self, fraction: float, message: str = "") -> None:
        """Set progress to ``fraction`` in [0, 1]; raises :class:`JobCancelled` when cancelled."""
        if self._cancel.is_set():
            raise JobCancelled
        self._pool._update(self._job_id, progress=min(1.0, max(0.0, float(fraction))), message=message or None)

    def preview(self, png: bytes) -> None:
        """Publish an intermediate image (e.g. the current stylised image)."""
        self._pool._update(self._job_id, preview=png)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


Work = Callable[[Progress], list[JobResult]]


class JobPool:
    """Runs jobs on ``workers`` threads; see the module docstring for the limits."""

    def __init__(
        self, *, workers: int = 1, queue: int = 8, ttl_s: float = 3600.0, per_owner: int | None = None
    ) -> None:
        self.workers, self.queue, self.ttl_s = workers, queue, ttl_s
        self.per_owner = per_owner if per_owner is not None else queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="convapps-job")
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._cancel: dict[str, threading.Event] = {}

    def submit(self, kind: str, owner: str, work: Work, *, params: dict[str, object] | None = None) -> Job:
        """Queue ``work``; returns a copy of the new job. Raises ServiceBusyError when the queue is full and
        TooManyRequestsError when ``owner`` already holds ``per_owner`` queued or running jobs."""
        with self._lock:
            self._prune_locked()
            active = [j for j in self._jobs.values() if j.state not in FINISHED]
            if len(active) >= self.queue:
                raise ServiceBusyError(
                    f"{len(active)} jobs are queued or running (the limit); try again shortly",
                    retry_after_s=RETRY_AFTER_S,
                )
            mine = sum(1 for j in active if j.owner == owner)
            if mine >= self.per_owner:
                raise TooManyRequestsError(
                    f"this key has {mine} jobs queued or running, its share of the {self.queue} job slots; "
                    "wait for one to finish or cancel one",
                    retry_after_s=RETRY_AFTER_S,
                )
            job = Job(id=uuid.uuid4().hex, kind=kind, owner=owner, created=time.time(), params=dict(params or {}))
            self._jobs[job.id] = job
            self._cancel[job.id] = threading.Event()
            snapshot = self._copy(job)
        self._executor.submit(self._run, job.id, work)
        return snapshot

    def get(self, job_id: str, owner: str) -> Job:
        """A copy of the job, if ``owner`` submitted it; NotFoundError otherwise."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.owner != owner:
                raise NotFoundError(f"no job {job_id!r} (finished jobs are kept {self.ttl_s / 60:.0f} minutes)")
            return self._copy(job)

    def list(self, owner: str) -> list[Job]:
        """The owner's jobs, newest first."""
        with self._lock:
            self._prune_locked()
            mine = [self._copy(j) for j in self._jobs.values() if j.owner == owner]
        return sorted(mine, key=lambda j: j.created, reverse=True)

    def list_all(self) -> builtins.list[Job]:  # `list` here is the method above
        """Every job of every owner (for health counts)."""
        with self._lock:
            return [self._copy(j) for j in self._jobs.values()]

    def cancel(self, job_id: str, owner: str) -> Job:
        """Ask a job to stop (a queued job never starts; a running one stops at its next progress call)."""
        self.get(job_id, owner)
        with self._lock:
            self._cancel[job_id].set()
            job = self._jobs[job_id]
            if job.state == "queued":
                job.state, job.message, job.finished = "cancelled", "cancelled", time.time()
            return self._copy(job)

    def shutdown(self) -> None:
        """Cancel every job and wait for the running ones to notice."""
        with self._lock:
            for event in self._cancel.values():
                event.set()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _run(self, job_id: str, work: Work) -> None:
        with self._lock:
            job, cancel = self._jobs.get(job_id), self._cancel.get(job_id)
            if job is None or cancel is None or cancel.is_set():
                return
            job.state, job.started, job.message = "running", time.time(), "starting"
        try:
            results = work(Progress(self, job_id, cancel))
        except JobCancelled:
            self._finish(job_id, "cancelled", message="cancelled")
        except ConvappsError as err:
            self._finish(job_id, "failed", message="failed", error=redact_paths(str(err)))
        except Exception:
            log.exception("job %s crashed", job_id)
            self._finish(job_id, "failed", message="failed", error="internal error; the server log has the details")
        else:
            self._finish(job_id, "done", message="done", results=tuple(results))

    def _finish(
        self,
        job_id: str,
        state: JobState,
        *,
        message: str,
        error: str | None = None,
        results: tuple[JobResult, ...] = (),
    ) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            job.state, job.message, job.error, job.results = state, message, error, results
            job.finished = time.time()
            if state == "done":
                job.progress = 1.0

    def _update(
        self, job_id: str, *, progress: float | None = None, message: str | None = None, preview: bytes | None = None
    ) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state != "running":
                return
            if progress is not None:
                job.progress = progress
            if message is not None:
                job.message = message
            if preview is not None:
                job.preview = preview

    def _prune_locked(self) -> None:
        horizon = time.time() - self.ttl_s
        for job_id in [j.id for j in self._jobs.values() if j.finished is not None and j.finished < horizon]:
            del self._jobs[job_id]
            del self._cancel[job_id]

    @staticmethod
    def _copy(job: Job) -> Job:
        return Job(**{**job.__dict__, "params": dict(job.params)})
