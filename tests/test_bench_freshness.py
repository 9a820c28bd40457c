"""How `make bench` reads each write's delay to the edge from its poll log
(bench/run.py, fresh_delays): the first answer of the write's version, the
first after which no process answers an older one, and bodies checked."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

RUN = Path(__file__).resolve().parents[1] / "bench" / "run.py"


def bench_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations by module
    spec.loader.exec_module(module)
    return module


def test_a_write_is_fresh_from_its_version_on_and_settled_after_the_last_stale_answer() -> None:
    run = bench_run()
    Poll, Write = run.Poll, run.Write
    writes = [Write(1.0, 10, b"m-0000", 0), Write(2.0, 11, b"m-0001", 1)]
    polls = [
        Poll(1.05, 9, b"old"),
        Poll(1.10, 10, b"m-0000"),  # first fresh for write 0
        Poll(1.15, 9, b"old"),  # another process, still behind
        Poll(1.20, 10, None),  # from here on every answer holds write 0
        Poll(2.30, 11, b"m-0000 m-0001"),  # first fresh for write 1, settled at once
        Poll(2.40, 11, b"m-0000 m-0001"),
    ]
    found = run.fresh_delays(writes, polls)
    assert found["missed"] == 0
    assert found["stale_after_fresh"] == 1
    assert found["wrong_bodies"] == 0
    assert round(found["first_max_ms"]) == 300  # write 1: 2.0 -> 2.3
    assert round(found["settled_p50_ms"]) == 200  # write 0: 1.0 -> 1.2
    assert round(found["settled_max_ms"]) == 300


def test_a_write_never_answered_is_missed_and_a_body_behind_its_version_is_wrong() -> None:
    run = bench_run()
    Poll, Write = run.Poll, run.Write
    writes = [Write(1.0, 10, b"m-0000", 0), Write(2.0, 11, b"m-0001", 0)]
    polls = [Poll(1.1, 10, b"m-0000"), Poll(2.5, 10, None), Poll(2.6, 11, b"m-0000")]
    found = run.fresh_delays(writes, polls)
    assert found["wrong_bodies"] == 1  # version 11 must carry m-0001
    assert found["missed"] == 0
    polls = [Poll(1.1, 10, b"m-0000")]
    assert run.fresh_delays(writes, polls)["missed"] == 1
