"""Adapters that load shipped pretrained weights (lazily, once per process); they never download.

The front door is the registry of networks (:mod:`convapps.models.registry`): one spec per network
(input convention, named layers, licence, package, loader) that every caller reads.

    from convapps import models
    models.network_names(role="features")        # ('vgg16-hed', 'vgg19', 'efficientnet-lite0')
    models.get_network("dlib-resnet").space      # EmbeddingSpace('dlib_face_recognition_resnet_model_v1', 128, ...)
    models.load_network("efficientnet-lite0")    # the loaded torch module (imports torch on first use)

Importing this package imports neither torch nor dlib.
"""

from convapps.embedding_space import EmbeddingSpace
from convapps.models.registry import NETWORKS, get_network, load_network, network_names
from convapps.models.spec import FaceEncoderSpec, InputConvention, NetworkSpec, Role

__all__ = [
    "NETWORKS",
    "EmbeddingSpace",
    "FaceEncoderSpec",
    "InputConvention",
    "NetworkSpec",
    "Role",
    "get_network",
    "load_network",
    "network_names",
]
