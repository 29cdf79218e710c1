"""The registry of networks: names, aliases, did-you-mean, spec facts against the loaded models, loads once."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import InvalidInputError, NotFoundError
from convapps.models import registry
from convapps.models.registry import (
    DEFAULT_FEATURES_NETWORK,
    DLIB_RESNET,
    EFFICIENTNET_LITE0,
    NETWORKS,
    VGG16_HED,
    get_network,
    load_network,
    network_names,
    vgg_layer_names,
)
from convapps.models.spec import FaceEncoderSpec, InputConvention


def test_names_roles_and_default() -> None:
    assert network_names() == ("vgg16-hed", "vgg19", "efficientnet-lite0", "dlib-resnet")
    assert network_names(role="features") == ("vgg16-hed", "vgg19", "efficientnet-lite0")
    assert network_names(role="face-encoder") == ("dlib-resnet",)
    assert network_names(role="classifier") == ()
    assert DEFAULT_FEATURES_NETWORK == "vgg16-hed"
    assert all(NETWORKS[name].name == name for name in NETWORKS)


def test_aliases_resolve_to_the_same_spec_and_the_same_loaded_network() -> None:
    assert get_network("vgg16") is VGG16_HED
    assert get_network("vgg16", role="features") is VGG16_HED
    assert load_network("vgg16") is load_network("vgg16-hed")
    assert "vgg16" not in network_names()  # listings show names only


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("vgg16_hed", "unknown network 'vgg16_hed': did you mean 'vgg16-hed'?"),
        ("vgg_16", "unknown network 'vgg_16': did you mean 'vgg16-hed'?"),  # via the alias, named canonically
        ("vgg-19", "unknown network 'vgg-19': did you mean 'vgg19'?"),
        ("efficientnet-lite1", "did you mean 'efficientnet-lite0'?"),
        ("xyz", "unknown network 'xyz': choose one of vgg16-hed, vgg19, efficientnet-lite0, dlib-resnet"),
    ],
)
def test_unknown_names_suggest_the_closest(name: str, message: str) -> None:
    with pytest.raises(NotFoundError) as info:
        get_network(name)
    assert message in str(info.value)


def test_a_network_of_another_role_is_refused_with_the_choices() -> None:
    with pytest.raises(
        NotFoundError,
        match="'dlib-resnet' is a face-encoder network, not features; "
        "choose one of vgg16-hed, vgg19, efficientnet-lite0",
    ):
        get_network("dlib-resnet", role="features")
    with pytest.raises(NotFoundError, match="did you mean 'vgg16-hed'"):
        get_network("vgg16_hed", role="features")


def test_importing_the_registry_imports_neither_torch_nor_dlib() -> None:
    code = "import sys, convapps.models; print('torch' in sys.modules, 'dlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_vgg_layer_names() -> None:
    names = vgg_layer_names((2, 2, 3, 3, 3))
    assert len(names) == 13 * 2 + 5
    assert names[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert names[-3:] == ("conv5_3", "relu5_3", "pool5")
    assert "relu5_4" in vgg_layer_names((2, 2, 4, 4, 4))


def test_vgg16_hed_spec_matches_the_loaded_extractor() -> None:
    extractor = load_network("vgg16-hed")
    assert extractor.model_id == VGG16_HED.model_id == "vgg16-hed-bsds500"
    assert extractor.layer_names == VGG16_HED.layers
    assert [extractor.channels(stage) for stage in VGG16_HED.stages] == [64, 128, 256, 512, 512]
    prep = extractor.preprocessing
    assert (prep.channel_order, prep.scale, prep.mean, prep.std) == ("bgr", 255.0, VGG16_HED.input.mean, (1, 1, 1))
    # the convention as numbers: a pixel equal to the mean (in RGB) becomes 0 in every channel
    b, g, r = VGG16_HED.input.mean
    x = extractor.preprocess(torch.tensor([r, g, b]).view(1, 3, 1, 1) / 255.0)
    assert torch.allclose(x, torch.zeros(1, 3, 1, 1), atol=1e-4)


def test_efficientnet_lite0_spec_matches_the_loaded_network() -> None:
    net = load_network("efficientnet-lite0")
    assert net.model_id == EFFICIENTNET_LITE0.model_id and net.spec is EFFICIENTNET_LITE0
    assert net.layer_names == EFFICIENTNET_LITE0.layers
    assert [net.channels(stage) for stage in EFFICIENTNET_LITE0.stages] == [16, 24, 40, 112, 320]
    image = np.array([[[127, 127, 127], [255, 255, 255]]], dtype=np.uint8)  # (1, 2, 3): mean and white
    x = net.preprocess(image)
    assert x.shape == (1, 3, 1, 2)
    assert torch.equal(x[0, :, 0, 0], torch.zeros(3)) and torch.equal(x[0, :, 0, 1], torch.ones(3))
    strides = [2 ** sum(w.rows.stride == 2 for w in net.layer_windows(s, (224, 224))) for s in net.spec.stages]
    assert strides == [2, 4, 8, 16, 32]  # layer i = the last block at stride 2^i


def test_dlib_resnet_spec_matches_the_loaded_network() -> None:
    assert isinstance(DLIB_RESNET, FaceEncoderSpec) and get_network("dlib-resnet") is DLIB_RESNET
    assert DLIB_RESNET.space == EmbeddingSpace("dlib_face_recognition_resnet_model_v1", 128, "squared_l2")
    assert DLIB_RESNET.chip_size == DLIB_RESNET.input.size == 150 and DLIB_RESNET.layers == ()
    net = load_network("dlib-resnet")
    assert tuple(net.mean.flatten().tolist()) == pytest.approx(DLIB_RESNET.input.mean)
    chips = torch.full((2, DLIB_RESNET.chip_size, DLIB_RESNET.chip_size, 3), 128, dtype=torch.uint8)
    with torch.inference_mode():
        out = net(chips)
    assert out.shape == (2, DLIB_RESNET.space.dim) and torch.isfinite(out).all()


def test_load_network_loads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registering a network is one entry; its loader runs once, on first use."""
    fake = replace(EFFICIENTNET_LITE0, name="fake-net", aliases=("fake",), loader="builtins:object")
    monkeypatch.setitem(NETWORKS, "fake-net", fake)
    monkeypatch.setitem(registry._ALIASES, "fake", "fake-net")
    try:
        assert "fake-net" in network_names(role="features") and get_network("fake") is fake
        first = load_network("fake-net")
        assert type(first) is object and load_network("fake") is first  # builtins.object() makes a new one per call
    finally:
        registry._load.cache_clear()


def test_specs_refuse_inconsistent_facts() -> None:
    with pytest.raises(InvalidInputError, match="5 stages"):
        replace(VGG16_HED, stages=("relu1_2",))
    with pytest.raises(InvalidInputError, match="not among its layers"):
        replace(EFFICIENTNET_LITE0, stages=("block0", "block2", "block4", "block10", "block99"))
    with pytest.raises(InvalidInputError, match="module:function"):
        replace(VGG16_HED, loader="convapps.models.vgg.load_vgg16")
    with pytest.raises(InvalidInputError, match="another model"):
        replace(DLIB_RESNET, space=EmbeddingSpace("other", 128))
    with pytest.raises(InvalidInputError, match="fixed chip size"):
        replace(DLIB_RESNET, input=InputConvention("rgb", (0.0, 255.0), (0.0, 0.0, 0.0)))
    with pytest.raises(InvalidInputError, match="already taken"):
        registry._alias_table(
            {"a": replace(VGG16_HED, name="a", aliases=("x",)), "b": replace(VGG16_HED, name="b", aliases=("x",))}
        )
