"""Shared fixtures. Tests that need ``../shared/data`` skip with a reason when it is absent, but never
under ``CI=true``: there a missing data folder is a failure, not a skip."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the read-only ``../shared/data`` folder (faces/, style/, nd/)."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the shared data folder {SHARED_DATA} is missing")
    pytest.skip(f"shared data folder {SHARED_DATA} is absent (tests on real LFW/style/ECG data skipped)")


ONE_THREAD_DIRS = frozenset({"nd", "nn", "training"})
"""Test folders of small models: one torch thread there, since small models run slower with more threads
than free cores (spinning OpenMP workers) on the shared 2-core machines."""


@pytest.fixture(autouse=True)
def _one_torch_thread_for_small_models(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.path.parent.name not in ONE_THREAD_DIRS or request.path.parent.parent != Path(__file__).parent:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
