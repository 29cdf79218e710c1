"""The batch engine: every item mapped exactly once on local processes and on an embedded Ray, rows of
mixed column types come back as the worker returned them, each worker is built once and keeps to its
thread budget, bad settings are refused, and an embedded Ray that does not come up is started once more
before a one-line error."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import pytest

from convapps.engine.runners import EngineConfig, map_items, start_local_ray
from convapps.errors import EngineError, InvalidInputError


def row_worker(offset: int, meet: tuple[str, int] | None = None):  # type: ignore[no-untyped-def]
    """A worker factory: records its process and thread budget once, then maps items to rows.

    With ``meet=(folder, n)`` each worker signs in to ``folder`` and its first item waits (up to a minute)
    until ``n`` workers have signed in, so on a slow machine one early worker cannot take every item
    before the others have started."""
    import torch

    built = os.getpid()
    threads = torch.get_num_threads()
    if meet is not None:
        (Path(meet[0]) / str(built)).touch()

    def run(item: int) -> dict[str, object]:
        if meet is not None:
            deadline = time.monotonic() + 60
            while len(list(Path(meet[0]).iterdir())) < meet[1] and time.monotonic() < deadline:
                time.sleep(0.01)
        return {
            "item": item,
            "value": item * item + offset,
            "blob": bytes([item % 256]) * 3,
            "numbers": [item, item + 0.5],
            "note": None if item % 2 else "even",
            "pid": built,
            "threads": threads,
        }

    return run


def _check(rows: list[dict[str, object]], n: int) -> None:
    assert sorted(r["item"] for r in rows) == list(range(n))  # type: ignore[type-var]
    by_item = {r["item"]: r for r in rows}
    assert by_item[3] == {**by_item[3], "value": 10, "blob": b"\x03\x03\x03", "numbers": [3, 3.5], "note": None}
    assert by_item[4]["note"] == "even" and all(r["threads"] == 1 for r in rows)


@pytest.mark.parametrize("workers", [1, 2])
def test_local_engine(workers: int, tmp_path: Path) -> None:
    config = EngineConfig(kind="local", workers=workers)
    rows = list(map_items(list(range(25)), functools.partial(row_worker, 1, (str(tmp_path), workers)), config))
    _check(rows, 25)
    assert len({r["pid"] for r in rows}) == workers  # one worker built per process


def test_ray_engine() -> None:
    config = EngineConfig(kind="ray", workers=2, batch_size=4)
    rows = list(map_items(list(range(12)), functools.partial(row_worker, 1), config))
    _check(rows, 12)
    assert 1 <= len({r["pid"] for r in rows}) <= 2 and os.getpid() not in {r["pid"] for r in rows}
    assert list(map_items([], functools.partial(row_worker, 1), config)) == []


def test_bad_settings() -> None:
    with pytest.raises(InvalidInputError, match="engine must be"):
        EngineConfig(kind="spark")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="workers"):
        EngineConfig(workers=0)
    with pytest.raises(InvalidInputError, match="Ray address"):
        EngineConfig(kind="local", ray_address="auto")


class FlakyRay:
    """Stands in for the ``ray`` module at start-up only: ``init`` fails its first ``failures`` calls the way
    Ray does when the local raylet never registers (a failure that cannot be provoked on demand)."""

    def __init__(self, failures: int) -> None:
        self.failures, self.inits, self.shutdowns = failures, [], 0

    def init(self, **kwargs: object) -> None:
        self.inits.append(kwargs)
        if len(self.inits) <= self.failures:
            raise Exception("The current node timed out during startup. This could happen because ...\nmore")

    def shutdown(self) -> None:
        self.shutdowns += 1


def test_an_embedded_ray_that_does_not_come_up_is_started_again_then_reported() -> None:
    once = FlakyRay(failures=1)
    start_local_ray(once, {"num_cpus": 3})
    assert once.inits == [{"num_cpus": 3}] * 2 and once.shutdowns == 1  # the failed start is cleaned up
    never = FlakyRay(failures=5)
    with pytest.raises(EngineError) as err:
        start_local_ray(never, {"num_cpus": 3})
    assert str(err.value) == (
        "the embedded Ray did not start after 2 tries (The current node timed out during startup. This could "
        "happen because ...); run again or use --engine local"
    )
    assert len(never.inits) == 2 and never.shutdowns == 2
