"""What a caller must know about one pretrained network: the spec type of the registry.

A :class:`NetworkSpec` holds the facts of one set of shipped weights: the input convention the
weights were trained with, the named layers a caller can tap (and the five the lecture calls
"layer 1" ... "layer 5"), the licence, the package the weights ship in, and where the loader is.
A face encoder's spec (:class:`FaceEncoderSpec`) adds its embedding space, the aligned chip it takes
and the default verification threshold. Pure data: importing this module imports no torch or dlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import InvalidInputError

Role = Literal["features", "classifier", "face-encoder"]
"""``features``: named activations a[l] (style transfer, top patches); ``classifier``: class scores;
``face-encoder``: an aligned face chip to an encoding f(x)."""

ChannelOrder = Literal["rgb", "bgr"]


@dataclass(frozen=True)
class InputConvention:
    """How an RGB image becomes the network's input: ``x = (pixel[order] - mean) / std`` per channel.

    Attributes:
        channel_order: order of the colour channels the weights expect.
        value_range: range of one pixel before ``mean`` is subtracted (``(0, 255)`` or ``(0, 1)``).
        mean: per-channel mean, in ``channel_order``, in ``value_range`` units.
        std: per-channel divisor, in ``channel_order``.
        size: side (pixels) of the square input the weights were trained at; None = not fixed.
    """

    channel_order: ChannelOrder
    value_range: tuple[float, float]
    mean: tuple[float, float, float]
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    size: int | None = None


@dataclass(frozen=True, kw_only=True)
class NetworkSpec:
    """One pretrained network of the registry (:data:`convapps.models.registry.NETWORKS`).

    Attributes:
        name: the name users type (``"vgg16-hed"``); ``aliases`` are accepted too.
        model_id: stable id of the weights, reported by health checks and written into outputs.
        role: what the network is used for (:data:`Role`).
        arch: the architecture (``"vgg16"``, ``"efficientnet-lite0"``, ...).
        summary: one line for listings.
        input: the input convention of the weights.
        layers: named layers a caller can ask for, input to output (empty: none are exposed).
        stages: the lecture's layers 1 to 5 (named layers); required for ``features`` networks.
        licence: licence of the weights (as their package declares it).
        package: the pip package the weights ship in (named in "install ..." messages).
        source: where the weights come from, in one line.
        loader: ``"module:function"`` returning the loaded network (called lazily, once); None for a
            spec that describes a user-given file rather than a registered network.
        aliases: other accepted names (old names keep working).
        probe_batch_size: images per forward pass when probing units (top patches); None = not probed.
    """

    name: str
    model_id: str
    role: Role
    arch: str
    summary: str
    input: InputConvention
    layers: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    licence: str
    package: str | None
    source: str
    loader: str | None
    aliases: tuple[str, ...] = ()
    probe_batch_size: int | None = None

    def __post_init__(self) -> None:
        if self.role == "features" and len(self.stages) != 5:
            raise InvalidInputError(f"features network {self.name!r} needs the lecture's 5 stages, got {self.stages}")
        missing = [stage for stage in self.stages if stage not in self.layers]
        if missing:
            raise InvalidInputError(f"network {self.name!r}: stages {missing} are not among its layers")
        if self.loader is not None and ":" not in self.loader:
            raise InvalidInputError(f"network {self.name!r}: loader must be 'module:function', got {self.loader!r}")


@dataclass(frozen=True, kw_only=True)
class FaceEncoderSpec(NetworkSpec):
    """A face encoder f(x): an aligned chip in, an encoding of its embedding space out.

    Attributes:
        space: the embedding space of its encodings.
        chip_padding: margin around the 5-point face template, as a fraction of the template's size
            (dlib's ``get_face_chip(..., padding=0.25)``, the value the ResNet was trained with).
        default_tau: default verification threshold tau in squared L2 units (``d <= tau`` -> same).
        default_tau_source: how ``default_tau`` was chosen.
        reference_l2_threshold: the threshold users of face_recognition know (plain L2).
        openset_calibration: file in ``convapps/models/data/`` holding the calibrated 1:K decision's
            impostor table (``models/openset_calibration.py``); None = none shipped (a fixed tau only).
    """

    role: Role = "face-encoder"
    space: EmbeddingSpace
    chip_padding: float
    default_tau: float
    default_tau_source: str
    reference_l2_threshold: float
    openset_calibration: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.input.size is None:
            raise InvalidInputError(f"face encoder {self.name!r} needs a fixed chip size")
        if self.space.model_id != self.model_id:
            raise InvalidInputError(f"face encoder {self.name!r}: space {self.space.describe()} is another model")

    @property
    def chip_size(self) -> int:
        """Side of the aligned RGB chip the encoder takes (pixels): ``input.size``."""
        return int(self.input.size or 0)
