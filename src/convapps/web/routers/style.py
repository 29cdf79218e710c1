"""``/api/style``: neural style transfer as background jobs (poll them under ``/api/jobs``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile, status

from convapps.errors import InvalidInputError
from convapps.web.auth import KeyDep
from convapps.web.features.style import StyleOptions, StyleStudio, build, fit_to_content
from convapps.web.routers.jobs import job_view
from convapps.web.schemas import JobView, StylePreset
from convapps.web.state import ServicesDep
from convapps.web.style_limits import DECODE_SIDE, MAX_SIZE, MAX_STEPS, MAX_STYLE_WEIGHT, MIN_SIZE
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
    size: Annotated[
        int | None,
        Form(
            ge=MIN_SIZE,
            le=MAX_SIZE,
            description=f"long side of the result in pixels ({MIN_SIZE}-{MAX_SIZE}); raised where needed so that "
            f"the short side is at least {MIN_SIZE} pixels (e.g. 32 -> 57 for a 16:9 photo)",
        ),
    ] = None,
    steps: Annotated[
        int | None, Form(ge=1, le=MAX_STEPS, description=f"optimiser steps per scale (1-{MAX_STEPS})")
    ] = None,
    style_weight: Annotated[
        float | None,
        Form(
            ge=0,
            le=MAX_STYLE_WEIGHT,
            description=f"beta, relative to alpha = 1 (0-{MAX_STYLE_WEIGHT:g}; useful: 0.5-10)",
        ),
    ] = None,
    color: Annotated[
        Literal["none", "luminance", "histogram"], Form(description="keep the content's colours")
    ] = "none",
    strength: Annotated[
        str,
        Form(
            max_length=16,
            description="how much painting: weak, normal, strong, or a number 0-1 (0.5 = normal); ignored when "
            "style_weight is given",
        ),
    ] = "normal",
    network: Annotated[
        Literal["vgg19", "vgg16-hed"],
        Form(
            description="the VGG defining the costs: vgg16-hed (HED's VGG16) or vgg19 (Gatys et al.'s ImageNet VGG19)"
        ),
    ] = "vgg19",
) -> JobView:
    feature = studio(services)
    settings = services.settings
    check_file_count([content, *styles], settings)
    options = StyleOptions(
        preset=preset,
        size=size,
        steps=steps,
        style_weight=style_weight,
        color=color,
        network=network,
        strength=strength,
    )
    config = options.config()
    decode_side = max(config.size, DECODE_SIDE)
    content_rgb = read_image(content, settings, max_side=decode_side)
    style_rgbs = [read_image(s, settings, max_side=decode_side) for s in styles]
    config = fit_to_content(config, content_rgb)
    params: dict[str, object] = {
        "preset": preset,
        "size": config.size,
        "steps": list(config.steps_per_scale()),
        "styles": len(style_rgbs),
        "color": color,
        "network": config.network,
        "strength": strength if style_weight is None else None,
        "beta": config.beta,
    }
    work = feature.work(content_rgb, style_rgbs, config, "convapps-style")
    return job_view(services.jobs.submit("style", key.id, work, params=params))
