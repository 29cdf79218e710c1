"""The front doors: each use-case package re-exports a small curated API that stays what it says.

A front-door name that equals a submodule's name would be replaced by that module as soon as the
submodule is imported (``import a.b`` sets ``a.b``): every name must survive importing every submodule.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

FRONT_DOORS = ("convapps.face", "convapps.style", "convapps.viz", "convapps.nd", "convapps.gallery")


@pytest.mark.parametrize("package", FRONT_DOORS)
def test_front_door_names_survive_importing_every_submodule(package: str) -> None:
    module = importlib.import_module(package)
    names = list(module.__all__)
    assert 3 <= len(names) <= 20, f"{package} should export a small curated API, has {len(names)} names"
    for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
        importlib.import_module(info.name)
    for name in names:
        value = getattr(module, name)
        assert not isinstance(value, types.ModuleType), f"{package}.{name} is a module, not the exported API"
        if inspect.isfunction(value) or inspect.isclass(value):
            assert inspect.getdoc(value), f"{package}.{name} has no docstring"
