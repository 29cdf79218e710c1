"""``/api/style``: neural style transfer as background jobs (poll them under ``/api/jobs``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile, status

from convapps.errors import InvalidInputError
from convapps.web.auth import KeyDep
from convapps.web.features.style import StyleOptions, StyleStudio, build
from convapps.web.routers.jobs import job_view
from convapps.web.schemas import JobView, StylePreset
from convapps.web.state import ServicesDep
from convapps.web.uploads import check_file_count, read_image

router = APIRouter(prefix="/api/style", tags=["style"])

__all__ = ["build", "router"]


def studio(services: ServicesDep) -> StyleStudio:
    feature = services.feature("style")
    if not isinstance(feature, StyleStudio):  # pragma: no cover - a test override of another type
        raise InvalidInputError("style feature is misconfigured")
    return feature


@router.get("/presets", response_model=list[StylePreset], summary="Presets of a transfer (size, steps)")
def presets(services: ServicesDep, key: KeyDep) -> list[StylePreset]:
    return [StylePreset.model_validate(p) for p in studio(services).presets()]


@router.post(
    "/jobs",
    response_model=JobView,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a style transfer: content photo + one or more style images",
)
def submit(
    services: ServicesDep,
    key: KeyDep,
    content: Annotated[UploadFile, File(description="the content photo C")],
    styles: Annotated[list[UploadFile], File(description="one or more style images S (blended equally)")],
    preset: Annotated[Literal["preview", "default", "high"], Form()] = "preview",
    size: Annotated[int | None, Form(description="long side of the result in pixels (32-1024)")] = None,
    steps: Annotated[int | None, Form(description="optimiser steps per scale (1-1000)")] = None,
    style_weight: Annotated[float | None, Form(description="beta, relative to alpha = 1")] = None,
    color: Annotated[
        Literal["none", "luminance", "histogram"], Form(description="keep the content's colours")
    ] = "none",
) -> JobView:
    feature = studio(services)
    settings = services.settings
    check_file_count([content, *styles], settings)
    config = StyleOptions(preset=preset, size=size, steps=steps, style_weight=style_weight, color=color).config()
    content_rgb = read_image(content, settings, max_side=config.size)
    style_rgbs = [read_image(s, settings, max_side=config.size) for s in styles]
    params: dict[str, object] = {
        "preset": preset,
        "size": config.size,
        "steps": list(config.steps_per_scale()),
        "styles": len(style_rgbs),
        "color": color,
    }
    work = feature.work(content_rgb, style_rgbs, config, "convapps-style")
    return job_view(services.jobs.submit("style", key.id, work, params=params))
