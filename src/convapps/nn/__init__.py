"""Torch modules: small architectures built from the lecture's layers (1D/3D ConvNets, ...)."""
