"""The bounded job pool: progress, results, limits, owners, cancellation, failures, expiry."""

from __future__ import annotations

import threading
import time

import pytest

from convapps.errors import InvalidInputError, NotFoundError
from convapps.web.errors import ServiceBusyError
from convapps.web.jobs import Job, JobPool, JobResult, Progress


def wait_final(pool: JobPool, job_id: str, owner: str = "a", timeout: float = 5.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = pool.get(job_id, owner)
        if job.state in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


def test_job_reports_progress_and_result() -> None:
    pool = JobPool(workers=1, queue=2)
    gate, seen = threading.Event(), threading.Event()

    def work(progress: Progress) -> list[JobResult]:
        progress(0.5, "half way")
        seen.set()
        gate.wait(5)
        return [JobResult("out.png", "image/png", b"PNG", caption="result")]

    job = pool.submit("test", "a", work, params={"x": 1})
    assert job.state in ("queued", "running") and job.params == {"x": 1}
    assert seen.wait(5)
    mid = pool.get(job.id, "a")
    assert (mid.state, mid.progress, mid.message) == ("running", 0.5, "half way")
    gate.set()
    final = wait_final(pool, job.id)
    assert final.state == "done" and final.progress == 1.0 and final.results[0].data == b"PNG"
    pool.shutdown()


def test_queue_is_bounded_and_jobs_are_private() -> None:
    pool = JobPool(workers=1, queue=2)
    gate = threading.Event()

    def blocked(progress: Progress) -> list[JobResult]:
        gate.wait(5)
        return []

    first = pool.submit("t", "a", blocked)
    pool.submit("t", "a", lambda p: [])
    with pytest.raises(ServiceBusyError, match="2 jobs"):
        pool.submit("t", "b", lambda p: [])
    with pytest.raises(NotFoundError):
        pool.get(first.id, "b")
    assert [j.id for j in pool.list("b")] == []
    gate.set()
    wait_final(pool, first.id)
    pool.shutdown()


def test_cancel_running_job_and_failures() -> None:
    pool = JobPool(workers=1, queue=4)
    started = threading.Event()

    def slow(progress: Progress) -> list[JobResult]:
        started.set()
        for i in range(500):
            progress(i / 500)
            time.sleep(0.01)
        return []

    job = pool.submit("t", "a", slow)
    assert started.wait(5)
    pool.cancel(job.id, "a")
    assert wait_final(pool, job.id).state == "cancelled"

    def bad_input(progress: Progress) -> list[JobResult]:
        raise InvalidInputError("preset 'x' is unknown")

    def crash(progress: Progress) -> list[JobResult]:
        raise RuntimeError("secret internals at /home/x")

    failed = wait_final(pool, pool.submit("t", "a", bad_input).id)
    assert failed.state == "failed" and failed.error == "preset 'x' is unknown"
    crashed = wait_final(pool, pool.submit("t", "a", crash).id)
    assert crashed.state == "failed" and "secret" not in (crashed.error or "") and "internal error" in crashed.error
    pool.shutdown()


def test_finished_jobs_expire() -> None:
    pool = JobPool(workers=1, queue=2, ttl_s=0.05)
    job = pool.submit("t", "a", lambda p: [])
    wait_final(pool, job.id)
    time.sleep(0.1)
    assert pool.list("a") == []
    with pytest.raises(NotFoundError):
        pool.get(job.id, "a")
    pool.shutdown()
