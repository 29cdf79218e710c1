"""Pydantic models of what the API returns (requests are multipart forms, described in each route)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ModelInfo(BaseModel):
    """A model the service uses, by the id it records in galleries and reports."""

    role: str
    id: str
    loaded: bool


class Health(BaseModel):
    """What ``GET /api/health`` reports (no API key needed; no personal data)."""

    status: Literal["ok", "degraded"]
    version: str
    models: list[ModelInfo]
    gallery_size: int | None = Field(description="number of enrolled people; null when faces are unavailable")
    gallery_backend: str | None
    features: dict[str, bool]
    jobs_active: int
    problems: list[str]


class WhoAmI(BaseModel):
    """The API key this request used."""

    key_id: str
    key_name: str
    created: str
    limits: dict[str, int]


class JobResultInfo(BaseModel):
    index: int
    name: str
    media_type: str
    caption: str
    url: str


class JobView(BaseModel):
    """A background job as the client sees it; poll ``GET /api/jobs/{id}`` until ``state`` is final."""

    id: str
    kind: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float = Field(ge=0.0, le=1.0)
    message: str
    error: str | None
    created: float
    started: float | None
    finished: float | None
    has_preview: bool
    results: list[JobResultInfo]
    params: dict[str, object]


class StylePreset(BaseModel):
    """A named set of transfer settings."""

    name: str
    description: str
    size: int
    scales: int
    iterations: list[int]
    default: bool


class LayerChoice(BaseModel):
    value: str
    label: str


class VizChoices(BaseModel):
    """What a top-patches run can probe."""

    networks: list[str]
    layers: list[LayerChoice]
    default_layer: str
    max_units: int


class Person(BaseModel):
    """An enrolled person (the gallery stores encodings, never photos)."""

    id: int
    name: str
    n_encodings: int
    created_at: str


class PeopleList(BaseModel):
    people: list[Person]
    count: int


class Rename(BaseModel):
    """Body of ``PATCH /api/people/{id}``."""

    name: str = Field(min_length=1, max_length=200)


class Box(BaseModel):
    """A face box in pixels of the analysed image (``image`` in the response), right/bottom inclusive."""

    left: int
    top: int
    right: int
    bottom: int


class ImageSize(BaseModel):
    width: int
    height: int


class FaceMatch(BaseModel):
    """One face found in the photo and who it is ("not recognized": ``recognized`` false, ``name`` null)."""

    box: Box
    recognized: bool
    name: str | None
    identity_id: int | None
    distance: float | None = Field(description="squared L2 distance to the nearest enrolled person")
    nearest_name: str | None = Field(description="the nearest enrolled person, even beyond the threshold")


class Identification(BaseModel):
    """Every face of the photo, largest first."""

    image: ImageSize
    faces: list[FaceMatch]
    threshold: float
    gallery_size: int


class Verification(BaseModel):
    """1:1 verification: ``match`` is ``distance <= threshold``."""

    match: bool
    distance: float
    threshold: float
    name: str | None = Field(description="the claimed person, when verifying against an enrolled name")
    notes: list[str]


class ThresholdInfo(BaseModel):
    """The decision threshold tau (squared L2) of the face encoder."""

    threshold: float
    threshold_l2: float
    metric: str
    model_id: str
    source: str
