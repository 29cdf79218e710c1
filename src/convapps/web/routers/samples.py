"""``/api/style/options`` (limits of a transfer, shipped style images) and ``/api/style/samples/{id}``.

The UI takes its input limits from here, so it never offers what the API refuses, and offers the style
images that ship with the packages as one-click choices (it fetches one and uploads it as a style).
"""

from __future__ import annotations

import functools

import numpy as np
from fastapi import APIRouter, Response
from PIL import Image
from pydantic import BaseModel, Field

from convapps.style.samples import SAMPLE_STYLES, sample_style
from convapps.web.auth import KeyDep
from convapps.web.features.images import png_bytes
from convapps.web.style_limits import MAX_SIZE, MAX_STEPS, MAX_STYLE_WEIGHT, MIN_SIZE

router = APIRouter(prefix="/api/style", tags=["style"])

SAMPLE_SIDE = 512
"""Long side of a served sample image, in pixels (large enough for the 'default' preset)."""


class Range(BaseModel):
    """Inclusive bounds of a numeric parameter (``max`` null: no upper bound)."""

    min: int | float
    max: int | float | None


class StyleLimits(BaseModel):
    """What ``POST /api/style/jobs`` accepts for its numeric fields."""

    size: Range = Field(description="long side of the result in pixels")
    steps: Range = Field(description="optimiser steps per scale")
    style_weight: Range = Field(description="beta, relative to alpha = 1")


class SampleInfo(BaseModel):
    """A style image that ships with the service; fetch it from ``url``."""

    id: str
    title: str
    credit: str
    url: str


class StyleChoices(BaseModel):
    """The limits of a transfer and the style images that ship with the service."""

    limits: StyleLimits
    samples: list[SampleInfo]


@router.get("/options", response_model=StyleChoices, summary="Limits of a transfer and the shipped style images")
def options(key: KeyDep) -> StyleChoices:
    limits = StyleLimits(
        size=Range(min=MIN_SIZE, max=MAX_SIZE),
        steps=Range(min=1, max=MAX_STEPS),
        style_weight=Range(min=0, max=MAX_STYLE_WEIGHT),
    )
    samples = [
        SampleInfo(id=s.id, title=s.title, credit=s.credit, url=f"/api/style/samples/{s.id}") for s in SAMPLE_STYLES
    ]
    return StyleChoices(limits=limits, samples=samples)


@router.get(
    "/samples/{sample_id}",
    summary="One shipped style image (PNG)",
    responses={200: {"content": {"image/png": {}}}, 404: {"description": "no such sample"}},
)
def sample(sample_id: str, key: KeyDep) -> Response:
    return Response(
        _sample_png(sample_id),
        media_type="image/png",
        headers={
            "Cache-Control": "private, max-age=86400",
            "Content-Disposition": f'inline; filename="{sample_id}.png"',
        },
    )


@functools.lru_cache(maxsize=len(SAMPLE_STYLES))
def _sample_png(sample_id: str) -> bytes:
    """The sample, its long side at most ``SAMPLE_SIDE``, as PNG (encoded once per process)."""
    image = Image.fromarray(sample_style(sample_id))
    image.thumbnail((SAMPLE_SIDE, SAMPLE_SIDE), Image.Resampling.LANCZOS)
    return png_bytes(np.asarray(image, dtype=np.uint8))
