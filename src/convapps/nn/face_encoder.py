"""Trainable face encoders f(x) producing L2-normalised 128-d encodings (lecture: "Triplet loss").

Two encoders are trained with the triplet loss of :mod:`convapps.core.triplet`:

- :class:`CompactFaceCNN`: a small ConvNet trained from scratch on aligned face chips. The aligned
  ``(N, 150, 150, 3)`` uint8 chips of the verification pipeline are area-downsampled to
  ``input_size`` (64 by default) by :func:`chips_to_tensor`, the one preprocessing used for training
  and inference.
- :class:`ProjectionHead`: a residual MLP on top of frozen pretrained 128-d encodings (computed once and
  cached, as the lecture advises). Its last layer starts at zero, so before training it is the identity
  followed by L2 normalisation: training can only move away from the pretrained metric when that helps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from convapps.errors import InvalidInputError

EMBEDDING_DIM = 128
CHIP_SIZE = 150


@dataclass(frozen=True)
class CNNSpec:
    """Architecture of :class:`CompactFaceCNN`: input side (pixels), channel widths of the four stages,
    encoding size and dropout before the last layer."""

    input_size: int = 64
    widths: tuple[int, int, int, int] = (32, 64, 128, 256)
    embedding_dim: int = EMBEDDING_DIM
    dropout: float = 0.2

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields (the saved model file stores them)."""
        return {**asdict(self), "widths": list(self.widths)}


def chips_to_tensor(chips: torch.Tensor, *, size: int) -> torch.Tensor:
    """Aligned chips ``(N, H, W, 3)`` uint8 -> network input ``(N, 3, size, size)`` float in [-1, 1].

    Area interpolation (the average of the covered pixels) when downsampling; deterministic.
    """
    if chips.ndim != 4 or chips.shape[-1] != 3:
        raise InvalidInputError(f"chips must be (N, H, W, 3) uint8, got shape {tuple(chips.shape)}")
    x = chips.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="area")
    return x.contiguous()


def _stage(c_in: int, c_out: int, *, double: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    if double:
        layers += [nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class CompactFaceCNN(nn.Module):
    """Four conv stages (3x3 conv + BN + ReLU, max-pool 2) -> flatten -> dropout -> linear -> L2 norm.

    Input ``(B, 3, s, s)`` from :func:`chips_to_tensor` with ``s = spec.input_size`` (a multiple of 16);
    output ``(B, embedding_dim)`` with unit norm. About 1.2 M parameters for the default spec.
    """

    def __init__(self, spec: CNNSpec | None = None) -> None:
        super().__init__()
        self.spec = spec or CNNSpec()
        if self.spec.input_size % 16:
            raise InvalidInputError(f"input_size must be a multiple of 16, got {self.spec.input_size}")
        w = self.spec.widths
        self.features = nn.Sequential(
            _stage(3, w[0], double=False),
            _stage(w[0], w[1], double=False),
            _stage(w[1], w[2], double=True),
            _stage(w[2], w[3], double=True),
        )
        side = self.spec.input_size // 16
        self.dropout = nn.Dropout(self.spec.dropout)
        self.embed = nn.Linear(w[3] * side * side, self.spec.embedding_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, s, s)`` -> ``(B, embedding_dim)`` L2-normalised encodings."""
        h = self.features(x).flatten(1)
        return F.normalize(self.embed(self.dropout(h)), dim=1)


class ProjectionHead(nn.Module):
    """``g(e) = normalise(e + W2 relu(W1 e + b1) + b2)`` on frozen pretrained encodings ``e`` ``(B, dim)``.

    ``W2`` and ``b2`` start at zero (identity map at initialisation). Output ``(B, dim)``, unit norm.
    """

    def __init__(self, dim: int = EMBEDDING_DIM, hidden: int = 256) -> None:
        super().__init__()
        self.dim, self.hidden = dim, hidden
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        """``(B, dim)`` pretrained encodings -> ``(B, dim)`` L2-normalised projected encodings."""
        if e.ndim != 2 or e.shape[1] != self.dim:
            raise InvalidInputError(f"expected encodings (B, {self.dim}), got shape {tuple(e.shape)}")
        return F.normalize(e + self.fc2(F.relu(self.fc1(e))), dim=1)


def augment_batch(x: torch.Tensor, *, shift: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Training augmentation of network inputs ``(B, 3, s, s)``: random horizontal flip (p = 0.5) and a
    random translation by up to ``shift`` pixels (replicate padding, then a crop back to ``s``)."""
    b, _, s, _ = x.shape
    flip = torch.rand(b, generator=generator) < 0.5
    x = torch.where(flip.view(b, 1, 1, 1), x.flip(3), x)
    if shift <= 0:
        return x
    padded = F.pad(x, (shift, shift, shift, shift), mode="replicate")
    offsets = torch.randint(0, 2 * shift + 1, (b, 2), generator=generator)
    return torch.stack([padded[i, :, oy : oy + s, ox : ox + s] for i, (oy, ox) in enumerate(offsets.tolist())])
