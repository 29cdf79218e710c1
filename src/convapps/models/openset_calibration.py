"""The shipped open-set calibration of a face encoder: impostor score table, template factors, cohort.

Made once by ``scripts/calibrate_openset.py`` from LFW View 1 training people only (never DevTest or
View 2) and shipped in ``convapps/models/data/`` next to the encoder's spec; how it was made and what it
holds: ``docs/face/OPENSET.md``. The cohort is a fixed set of background encodings (128 numbers per face,
no image) of public LFW photos; the score of a probe is normalised by its distance to them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from convapps.core.openset import ImpostorTable
from convapps.errors import ModelNotAvailableError
from convapps.models.spec import FaceEncoderSpec


@dataclass(frozen=True)
class OpenSetCalibration:
    """What the calibrated 1:K decision needs for one encoder.

    Attributes:
        model_id: the encoder the numbers belong to.
        table: the impostor score distribution F as (p, tau) rows.
        cohort: background encodings ``(M, D)`` float32.
        cohort_n: how many nearest cohort members the normalisation averages.
        template_factors: g(m) for templates of m = 1, 2, ... photos.
        source: one line on how the table was made.
    """

    model_id: str
    table: ImpostorTable
    cohort: NDArray[np.float32]
    cohort_n: int
    template_factors: tuple[float, ...]
    source: str


@functools.cache
def load_openset_calibration(spec: FaceEncoderSpec) -> OpenSetCalibration:
    """The calibration shipped for ``spec`` (read once per process).

    Raises:
        ModelNotAvailableError: the encoder has no shipped calibration, or its files are missing.
    """
    if spec.openset_calibration is None:
        raise ModelNotAvailableError(f"face encoder {spec.name!r} has no open-set calibration; give a fixed tau")
    data = resources.files("convapps.models").joinpath("data")
    try:
        meta = json.loads(data.joinpath(spec.openset_calibration).read_text(encoding="utf-8"))
        with data.joinpath(meta["cohort_file"]).open("rb") as fh:
            cohort = np.load(fh, allow_pickle=False).astype(np.float32)
    except (OSError, KeyError, ValueError) as err:
        raise ModelNotAvailableError(
            f"the open-set calibration of {spec.name!r} is missing or damaged ({type(err).__name__}); "
            "reinstall convapps"
        ) from None
    if meta.get("model_id") != spec.model_id or cohort.shape[1:] != (spec.space.dim,):
        raise ModelNotAvailableError(f"the open-set calibration shipped for {spec.name!r} belongs to another model")
    return OpenSetCalibration(
        model_id=spec.model_id,
        table=ImpostorTable.from_rows(meta["rows"]),
        cohort=cohort,
        cohort_n=int(meta["cohort_n"]),
        template_factors=tuple(float(g) for g in meta["template_factors"]),
        source=str(meta["data"]),
    )
