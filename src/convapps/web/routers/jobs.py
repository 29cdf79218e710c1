"""``/api/jobs``: poll, fetch results of, and cancel background jobs (submitted by the style and viz routes)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from convapps.errors import NotFoundError
from convapps.web.auth import KeyDep
from convapps.web.jobs import Job
from convapps.web.schemas import JobResultInfo, JobView
from convapps.web.state import ServicesDep

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def job_view(job: Job) -> JobView:
    """The public view of a job (results as URLs, never inline bytes)."""
    return JobView(
        id=job.id,
        kind=job.kind,
        state=job.state,
        progress=round(job.progress, 4),
        message=job.message,
        error=job.error,
        created=job.created,
        started=job.started,
        finished=job.finished,
        has_preview=job.preview is not None,
        params=job.params,
        results=[
            JobResultInfo(
                index=i, name=r.name, media_type=r.media_type, caption=r.caption, url=f"/api/jobs/{job.id}/results/{i}"
            )
            for i, r in enumerate(job.results)
        ],
    )


@router.get("", response_model=list[JobView], summary="Your jobs, newest first")
def list_jobs(services: ServicesDep, key: KeyDep) -> list[JobView]:
    return [job_view(j) for j in services.jobs.list(key.id)]


@router.get("/{job_id}", response_model=JobView, summary="A job's state and progress (poll this)")
def get_job(job_id: str, services: ServicesDep, key: KeyDep) -> JobView:
    return job_view(services.jobs.get(job_id, key.id))


@router.get(
    "/{job_id}/results/{index}",
    summary="One result of a finished job (an image)",
    responses={200: {"content": {"image/png": {}}}, 404: {"description": "no such job or result"}},
)
def get_result(job_id: str, index: int, services: ServicesDep, key: KeyDep) -> Response:
    job = services.jobs.get(job_id, key.id)
    if job.state != "done":
        raise NotFoundError(f"job {job_id} is {job.state}; results appear when it is done")
    if not 0 <= index < len(job.results):
        raise NotFoundError(f"job {job_id} has {len(job.results)} results; no result {index}")
    result = job.results[index]
    disposition = f'inline; filename="{result.name}"'
    return Response(result.data, media_type=result.media_type, headers={"Content-Disposition": disposition})


@router.get(
    "/{job_id}/preview",
    summary="The latest intermediate image of a running job",
    responses={200: {"content": {"image/png": {}}}, 404: {"description": "no preview yet"}},
)
def get_preview(job_id: str, services: ServicesDep, key: KeyDep) -> Response:
    job = services.jobs.get(job_id, key.id)
    if job.preview is None:
        raise NotFoundError(f"job {job_id} has no preview yet")
    return Response(job.preview, media_type="image/png")


@router.delete("/{job_id}", response_model=JobView, summary="Cancel a queued or running job")
def cancel_job(job_id: str, services: ServicesDep, key: KeyDep) -> JobView:
    return job_view(services.jobs.cancel(job_id, key.id))
