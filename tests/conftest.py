"""Shared fixtures. Tests that need ``../shared/data`` skip with a reason when it is absent, but never
under ``CI=true``: there a missing data folder is a failure, not a skip."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``127.0.0.1:PORT`` of a real Milvus gRPC server (``milvus-lite server``) started for this session and
    stopped at its end. Tests keep apart by using a database each (``milvus://127.0.0.1:PORT/name``)."""
    import logging

    from pymilvus import MilvusClient

    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # refused connections while it starts
    folder = tmp_path_factory.mktemp("milvus-server")
    port = _free_port()
    command = [str(Path(sys.executable).parent / "milvus-lite"), "server", "--data-dir", str(folder / "data")]
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    try:
        while True:
            if server.poll() is not None:
                pytest.fail(f"the Milvus server exited with {server.returncode}: {(folder / 'server.log').read_text()}")
            try:
                client = MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=2)
                client.list_collections()
                client.close()
                break
            except Exception:
                if time.monotonic() > deadline:
                    pytest.fail(f"the Milvus server on port {port} did not answer within 30 s")
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
