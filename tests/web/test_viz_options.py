"""The top-patches form options: networks and layer labels come from the registry; aliases are accepted."""

from __future__ import annotations

import pytest

from convapps.errors import InvalidInputError
from convapps.web.features.viz import PatchViewer, VizOptions


def test_options_list_the_registry_networks_and_the_default_stages() -> None:
    options = PatchViewer.options()
    assert options["networks"] == ["vgg16-hed", "vgg19", "efficientnet-lite0"]
    layers = options["layers"]
    assert isinstance(layers, list)
    assert [c["label"] for c in layers] == [
        "layers 1 to 5",
        "layer 1 (relu1_2)",
        "layer 2 (relu2_2)",
        "layer 3 (relu3_3)",
        "layer 4 (relu4_3)",
        "layer 5 (relu5_3)",
    ]


def test_config_resolves_aliases_and_refuses_unknown_networks_as_bad_input() -> None:
    assert VizOptions(network="vgg16").config().network == "vgg16-hed"
    assert VizOptions(network="efficientnet-lite0", units=3).config().units == "top:3"
    with pytest.raises(InvalidInputError, match="did you mean 'efficientnet-lite0'"):  # 422, not 404
        VizOptions(network="efficientnet").config()
    with pytest.raises(InvalidInputError, match="face-encoder"):
        VizOptions(network="dlib-resnet").config()
