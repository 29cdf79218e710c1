"""``/api/viz``: top-patches runs over uploaded images as background jobs (grids under ``/api/jobs``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile, status

from convapps.errors import InvalidInputError
from convapps.models.registry import DEFAULT_FEATURES_NETWORK, network_names
from convapps.web.auth import KeyDep
from convapps.web.features.viz import MAX_UNITS, PatchViewer, VizOptions, build
from convapps.web.routers.jobs import job_view
from convapps.web.schemas import JobView, VizChoices
from convapps.web.state import ServicesDep
from convapps.web.uploads import check_file_count, read_image

router = APIRouter(prefix="/api/viz", tags=["visualisation"])

__all__ = ["build", "router"]

MAX_LAYERS_LENGTH = 200
"""Longest ``layers`` value accepted (a list of every stage and layer name fits)."""


def viewer(services: ServicesDep) -> PatchViewer:
    feature = services.feature("viz")
    if not isinstance(feature, PatchViewer):  # pragma: no cover - a test override of another type
        raise InvalidInputError("viz feature is misconfigured")
    return feature


@router.get("/options", response_model=VizChoices, summary="Networks and layers a run can probe")
def options(services: ServicesDep, key: KeyDep) -> VizChoices:
    return VizChoices.model_validate(viewer(services).options())


@router.post(
    "/jobs",
    response_model=JobView,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a top-patches run over uploaded images",
)
def submit(
    services: ServicesDep,
    key: KeyDep,
    images: Annotated[list[UploadFile], File(description="the images to search for patches (1 to max_files)")],
    layers: Annotated[
        str, Form(max_length=MAX_LAYERS_LENGTH, description="'1-5', '1,3', or a layer name such as relu4_1")
    ] = "1-5",
    units: Annotated[int, Form(ge=1, le=MAX_UNITS, description=f"units shown per layer (1-{MAX_UNITS})")] = 8,
    unit_mode: Annotated[Literal["top", "random"], Form(description="most active units, or a random draw")] = "top",
    network: Annotated[str, Form(description=f"one of {', '.join(network_names(role='features'))}")] = (
        DEFAULT_FEATURES_NETWORK
    ),
) -> JobView:
    feature = viewer(services)
    check_file_count(images, services.settings)
    config = VizOptions(network=network, layers=layers, units=units, unit_mode=unit_mode).config()
    arrays = [read_image(f, services.settings, max_side=2 * config.size) for f in images]
    config = replace(config, k=min(config.k, len(arrays)))  # no empty columns for a handful of images
    params: dict[str, object] = {
        "network": config.network,
        "layers": layers,
        "units": f"{unit_mode}:{units}",
        "images": len(arrays),
    }
    work = feature.work(arrays, config)
    return job_view(services.jobs.submit("viz", key.id, work, params=params))
