"""Shared fixtures. Tests that need ``../shared/data`` skip with a reason when it is absent, but never
under ``CI=true``: there a missing data folder is a failure, not a skip."""

from __future__ import annotations

import os
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
