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


class Enrolled(Person):
    """A person just enrolled, with warnings for whoever enrolls (e.g. a look-alike already enrolled)."""

    warnings: list[str] = Field(description='e.g. "looks like Ada Lovelace (d = 0.21)"; empty when all is well')


class PeopleList(BaseModel):
    """One page of enrolled people, sorted by name."""

    people: list[Person]
    count: int = Field(description="people on this page")
    total: int = Field(description="people matching the search, on all pages")
    offset: int
    limit: int


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
    """One face found in the photo and who it is ("not recognized": ``recognized`` false, ``name`` null).

    The decision compares ``score`` with ``tau``: a normalised score when ``calibrated`` (tau chosen for
    the gallery's size), else the plain squared L2 distance to the nearest photo (a fixed tau).
    """

    box: Box
    recognized: bool
    name: str | None
    identity_id: int | None
    sentence: str = Field(description="the decision in plain words, e.g. 'This is Ada Lovelace (...)'")
    distance: float | None = Field(description="squared L2 distance to the nearest enrolled person (their template)")
    score: float | None = Field(description="the nearest person's score, compared with tau")
    nearest_name: str | None = Field(description="the nearest enrolled person, even beyond the threshold")
    second_name: str | None = Field(description="the second-nearest enrolled person")
    second_distance: float | None
    second_score: float | None
    margin: float | None = Field(description="second_score - score: how clearly the nearest wins")
    tau: float
    tau_reason: str
    calibrated: bool


class Identification(BaseModel):
    """Every face of the photo, largest first, and the tau of this search and why."""

    image: ImageSize
    faces: list[FaceMatch] = Field(description="largest first; empty when the photo shows no face")
    message: str = Field(description="the result in one sentence, e.g. 'No face was found in this photo. ...'")
    threshold: float = Field(description="tau of this search (same as tau)")
    tau: float
    tau_reason: str = Field(description="e.g. 'tau 0.66: 1,680 people, FAR 1% per search'")
    calibrated: bool
    far: float = Field(description="the per-search false-accept rate asked for")
    gallery_size: int


class Verification(BaseModel):
    """1:1 verification: ``match`` is ``distance <= threshold``."""

    match: bool
    distance: float
    threshold: float
    name: str | None = Field(description="the claimed person, when verifying against an enrolled name")
    notes: list[str]


class ThresholdInfo(BaseModel):
    """The verification threshold tau (squared L2, 1:1) of the face encoder, and the tau identify (1:K)
    uses now for the gallery's size."""

    threshold: float
    threshold_l2: float
    metric: str
    model_id: str
    source: str
    identify_tau: float
    identify_tau_reason: str = Field(description="e.g. 'tau 0.66: 1,680 people, FAR 1% per search'")
    identify_calibrated: bool
    identify_far: float
    gallery_size: int


class ArchiveTotals(BaseModel):
    """What the whole archive index holds."""

    photos: int = Field(description="readable photos indexed")
    faces: int
    groups: int = Field(description="groups of faces (people), named or not")
    named: int = Field(description="groups with a name")
    ungrouped: int = Field(description="faces not grouped yet (run 'convapps face cluster')")


class ArchiveGroup(BaseModel):
    """A group of faces of the archive: one person, named or not yet."""

    id: int
    size: int = Field(description="faces in the group")
    name: str | None = Field(description="null until the group is named")
    representative: int | None = Field(description="the face nearest the group's mean encoding")
    sample: list[int] = Field(description="up to 4 face ids to show, the representative first")


class ArchiveGroupPage(BaseModel):
    """One page of the groups, largest first, and the totals of the whole index."""

    groups: list[ArchiveGroup]
    count: int = Field(description="groups on this page")
    total: int = Field(description="groups of at least min_size faces, on all pages")
    offset: int
    limit: int
    min_size: int
    totals: ArchiveTotals


class ArchiveFace(BaseModel):
    """A face of the archive: its photo (the path it was indexed at) and its box in that photo."""

    id: int
    photo: str
    box: Box


class ArchiveFacePage(BaseModel):
    """One page of a group's faces, ordered by photo."""

    group: ArchiveGroup
    faces: list[ArchiveFace]
    count: int
    total: int
    offset: int
    limit: int


class ArchivePhoto(BaseModel):
    """A photo where the person appears, with the box of each of their faces in it."""

    face: int = Field(description="one of their faces in it: GET /api/archive/photos/{face}/image shows the photo")
    photo: str = Field(description="the path the photo was indexed at")
    boxes: list[Box] = Field(description="in pixels of the whole, upright photo (width x height)")
    width: int | None = Field(description="the photo's width; null when it cannot be read now (see problem)")
    height: int | None
    problem: str | None = Field(description="why the photo cannot be shown, e.g. moved or deleted since indexing")


class ArchivePhotoPage(BaseModel):
    """One page of the photos of a named person."""

    name: str
    group: int
    photos: list[ArchivePhoto]
    count: int
    total: int = Field(description="photos where the person appears, on all pages")
    offset: int
    limit: int


class GroupName(BaseModel):
    """Body of ``POST /api/archive/groups/{id}/name``."""

    name: str = Field(min_length=1, max_length=200)


class GroupNamed(BaseModel):
    """A group just named, and the person it enrolled in the gallery."""

    group: ArchiveGroup
    person: Person
    added: bool = Field(description="true when the faces were added to someone already enrolled under this name")
    message: str = Field(description="what happened, in one sentence")


class GroupMerge(BaseModel):
    """Body of ``POST /api/archive/groups/{id}/merge``: the groups whose faces move into this one."""

    others: list[int] = Field(min_length=1, max_length=100)


class GroupMerged(BaseModel):
    group: ArchiveGroup
    moved: int = Field(description="faces moved into the group")
    message: str
