"""Adapters that load shipped pretrained weights (lazily, once per process); they never download."""
