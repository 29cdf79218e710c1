"""Read dlib's serialized face ResNet (``dlib_face_recognition_resnet_model_v1.dat``) into torch, once per process.

dlib writes a network input-to-output, one record per layer: the layer's name as a string, then its
fields. Integers use dlib's compact encoding (a control byte: bit 7 = sign, low 4 bits = number of
little-endian bytes that follow); tensors are ``version=2, num_samples, k, nr, nc`` then raw float32
little-endian values. The records used here:

* ``con_4``: params tensor (filters ``(C_out, C_in, kH, kW)`` then ``C_out`` biases), then
  ``num_filters, nr, nc, stride_y, stride_x, padding_y, padding_x``;
* ``affine_``: params tensor (``gamma`` then ``beta``, one per channel);
* ``fc_2``: ``num_outputs, num_inputs``, then the ``(num_inputs, num_outputs)`` weight tensor.

The input layer's mean RGB (122.782, 117.001, 104.298), dlib's ``input_rgb_image`` constant, is the
registry's ``DLIB_RESNET.input.mean``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np

from convapps.errors import CheckpointError
from convapps.models.dlib_face import model_file
from convapps.models.registry import DLIB_RESNET

MEAN_RGB = DLIB_RESNET.input.mean
_RECORD = re.compile(rb"\x01\x05con_4|\x01\x07affine_|\x01\x04fc_2")


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.path = data, path

    def integer(self, pos: int) -> tuple[int, int]:
        control = self.data[pos]
        size = control & 0x0F
        value = int.from_bytes(self.data[pos + 1 : pos + 1 + size], "little")
        return (-value if control & 0x80 else value), pos + 1 + size

    def tensor(self, pos: int) -> tuple[np.ndarray, int]:
        version, pos = self.integer(pos)
        if version != 2:
            raise CheckpointError(f"{self.path}: unsupported dlib tensor version {version} at byte {pos}")
        dims = []
        for _ in range(4):
            value, pos = self.integer(pos)
            dims.append(value)
        count = int(np.prod(dims))
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=pos).astype(np.float32)
        return values, pos + 4 * count


def read_dlib_resnet(path: Path) -> tuple[list[tuple[np.ndarray, list[int]]], list[np.ndarray], np.ndarray]:
    """(convs as (params, [filters, nr, nc, sy, sx, py, px]), affine params, fc (256, 128)) in file order."""
    reader = _Reader(path.read_bytes(), path)
    convs: list[tuple[np.ndarray, list[int]]] = []
    affines: list[np.ndarray] = []
    fc: np.ndarray | None = None
    for match in _RECORD.finditer(reader.data):
        name, pos = match.group()[2:], match.end()
        if name == b"fc_2":
            outputs, pos = reader.integer(pos)
            inputs, pos = reader.integer(pos)
            values, _ = reader.tensor(pos)
            fc = values.reshape(inputs, outputs)
            continue
        values, pos = reader.tensor(pos)
        if name == b"affine_":
            affines.append(values)
            continue
        fields = []
        for _ in range(7):
            value, pos = reader.integer(pos)
            fields.append(value)
        convs.append((values, fields))
    if fc is None:
        raise CheckpointError(f"{path}: no fully connected layer found; not dlib's face ResNet")
    return convs, affines, fc


@functools.cache
def load_torch_resnet() -> object:
    """dlib's face ResNet as a :class:`convapps.nn.dlib_resnet.DlibResNet` in eval mode (cached)."""
    import torch

    from convapps.nn.dlib_resnet import ConvWeights, DlibResNet

    path = model_file("encoder")
    raw_convs, raw_affines, fc = read_dlib_resnet(path)
    convs, affines = [], []
    in_channels = 3
    for (params, (filters, nr, nc, sy, sx, py, px)), affine in zip(raw_convs, raw_affines, strict=True):
        n_weights = filters * in_channels * nr * nc
        if params.size != n_weights + filters or sy != sx or py != px:
            raise CheckpointError(f"{path}: unexpected convolution layout ({filters} filters, {params.size} values)")
        weight = torch.from_numpy(params[:n_weights].reshape(filters, in_channels, nr, nc).copy())
        convs.append(ConvWeights(weight, torch.from_numpy(params[n_weights:].copy()), sy, py))
        half = affine.size // 2
        affines.append((torch.from_numpy(affine[:half].copy()), torch.from_numpy(affine[half:].copy())))
        in_channels = filters
    try:
        net = DlibResNet(convs, affines, torch.from_numpy(fc.copy()), MEAN_RGB)
    except ValueError as err:
        raise CheckpointError(f"{path}: {err}") from err
    return net.eval()
