"""Named-layer feature extractor: layer names, early stop, pre-processing, receptive fields."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convapps.errors import InvalidInputError, NotFoundError
from convapps.nn.feature_extractor import FeatureExtractor, Preprocessing, vgg_layers

TINY = (4, 0, 6, 6, 0)


def _tiny(order: str = "bgr") -> FeatureExtractor:
    torch.manual_seed(0)
    prep = Preprocessing(channel_order=order, scale=255.0, mean=(10.0, 20.0, 30.0))  # type: ignore[arg-type]
    return FeatureExtractor(vgg_layers(TINY), preprocessing=prep, model_id="tiny")


def test_layer_names_and_shapes() -> None:
    fe = _tiny()
    assert fe.layer_names == ("conv1_1", "relu1_1", "pool1", "conv2_1", "relu2_1", "conv2_2", "relu2_2", "pool2")
    out = fe(torch.rand(2, 3, 16, 12), ["relu1_1", "pool2"])
    assert out["relu1_1"].shape == (2, 4, 16, 12)
    assert out["pool2"].shape == (2, 6, 4, 3)
    assert fe.channels("conv2_2") == 6


def test_stops_at_deepest_requested_layer() -> None:
    fe = _tiny()
    calls: list[str] = []
    for name, module in fe.body.items():
        module.register_forward_hook(lambda *_, n=name: calls.append(n))
    fe(torch.rand(1, 3, 8, 8), ["conv1_1", "conv2_1"])
    assert calls == ["conv1_1", "relu1_1", "pool1", "conv2_1"]


def test_relu_does_not_overwrite_conv_output() -> None:
    out = _tiny()(torch.randn(1, 3, 8, 8), ["conv1_1", "relu1_1"])
    assert (out["conv1_1"] < 0).any()
    assert torch.equal(out["relu1_1"], out["conv1_1"].clamp_min(0))


def test_unknown_layer_suggests_a_name() -> None:
    with pytest.raises(NotFoundError, match="did you mean 'relu2_1'"):
        _tiny()(torch.rand(1, 3, 8, 8), ["relu2-1"])


def test_preprocess_uint8_and_float_agree_and_flip_to_bgr() -> None:
    fe = _tiny("bgr")
    image = np.zeros((2, 3, 3), dtype=np.uint8)
    image[..., 0] = 255  # pure red
    x = fe.preprocess(image)
    assert x.shape == (1, 3, 2, 3)
    assert torch.allclose(x[0, :, 0, 0], torch.tensor([0 - 10.0, 0 - 20.0, 255 - 30.0]))
    as_float = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    assert torch.allclose(fe.preprocess(as_float), x)
    with pytest.raises(InvalidInputError):
        fe.preprocess(np.zeros((4, 4), dtype=np.uint8))


def test_weights_frozen_but_input_gets_gradients() -> None:
    fe = _tiny()
    x = torch.rand(1, 3, 8, 8, requires_grad=True)
    fe(fe.normalize(x), ["relu2_2"])["relu2_2"].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in fe.parameters())


def test_receptive_field_matches_vgg16_known_values() -> None:
    from convapps.models.vgg import VGG_CONFIGS

    fe = FeatureExtractor(
        vgg_layers(VGG_CONFIGS["vgg16"]), preprocessing=Preprocessing("rgb", 1.0, (0, 0, 0)), model_id="v"
    )
    # well-known VGG16 receptive fields: conv1_2 5, conv2_2 14 (16 after pool), conv3_3 40, conv4_3 92, conv5_3 196
    assert fe.receptive_field("conv1_2").size == 5
    assert fe.receptive_field("conv3_3").size == 40
    assert fe.receptive_field("conv4_3").size == 92
    assert fe.receptive_field("conv5_3").size == 196
    assert fe.receptive_field("pool5").jump == 32
    geometry = fe.geometry("pool1")
    expected = [(3, 1, 1), (1, 1, 0), (3, 1, 1), (1, 1, 0), (2, 2, 0)]
    assert [(g.kernel, g.stride, g.padding) for g in geometry] == expected
