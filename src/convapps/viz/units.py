"""Which units (channels) of a layer to show: ``--units 3,17,42``, ``random:N`` or ``top:N``."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from convapps.errors import InvalidInputError

UnitMode = Literal["indices", "random", "top"]


@dataclass(frozen=True)
class UnitSelection:
    """A parsed ``--units`` value.

    ``indices``: these channel numbers in every layer; ``random``: N distinct units drawn uniformly
    (seeded, a different draw per layer); ``top``: the N units with the highest mean activation over
    the images (mean over images and positions).
    """

    mode: UnitMode
    count: int = 0
    indices: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> UnitSelection:
        """Parse ``"0,5,12"``, ``"random:8"`` or ``"top:8"``."""
        cleaned = text.strip().lower().replace(" ", "")
        match = re.fullmatch(r"(random|top):(\d+)", cleaned)
        if match:
            count = int(match.group(2))
            if count < 1:
                raise InvalidInputError(f"unit selection {text!r}: N must be >= 1")
            return cls(mode=match.group(1), count=count)  # type: ignore[arg-type]
        if re.fullmatch(r"\d+(,\d+)*", cleaned):
            indices = tuple(dict.fromkeys(int(v) for v in cleaned.split(",")))
            return cls(mode="indices", count=len(indices), indices=indices)
        raise InvalidInputError(f"malformed unit selection {text!r}: use unit indices (3,17,42), random:N or top:N")

    def select(
        self,
        channels: int,
        mean_activation: torch.Tensor,
        *,
        seed: int,
        layer: str,
        peak: torch.Tensor | None = None,
    ) -> list[int]:
        """The unit indices to show for a layer with ``channels`` units.

        ``peak`` (``(C,)``, each unit's best activation) lets ``random:``/``top:`` skip silent units, those
        that never exceed 0 on any image (dead ReLUs show nine blank corner crops); explicit indices are
        always honoured.
        """
        if self.mode == "indices":
            bad = [i for i in self.indices if i >= channels]
            if bad:
                raise InvalidInputError(
                    f"unit {bad[0]} does not exist in {layer}, which has {channels} units (0-{channels - 1})"
                )
            return list(self.indices)
        candidates = torch.arange(channels)
        if peak is not None and bool((peak > 0).any()):
            candidates = candidates[peak > 0]
        count = min(self.count, int(candidates.numel()))
        if self.mode == "top":
            order = torch.sort(mean_activation[candidates], descending=True, stable=True).indices
            return [int(candidates[i]) for i in order[:count]]
        rng = np.random.default_rng([seed, zlib.crc32(layer.encode())])
        return sorted(int(candidates[i]) for i in rng.choice(int(candidates.numel()), size=count, replace=False))
