"""The benchmark's baseline (bench/baseline/app.py) answers find-station as
the platform does: on a real PostgreSQL database with the demo district, for
each community's address, the same community, station and deputies as the
registry's FindStation, in the JSON the gateway sends; so the baseline the
edge is measured against cannot silently answer something else."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi import HTTPException

from gateway import schemas as s
from gateway.convert import message_to_dict
from gateway.problems import problem_from_domain_error
from kit.db import Database
from kit.errors import DomainError
from kit.migrations import upgrade
from liaison.registry.v1 import registry_pb2 as pb
from registry.bootstrap import MIGRATIONS
from registry.demo_data import build_district
from registry.loading import Loader
from registry.service import Registry

pytestmark = pytest.mark.postgres

APP = Path(__file__).resolve().parents[1] / "bench" / "baseline" / "app.py"


def baseline_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_baseline_app", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the models' annotations by module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def demo(database_url: str) -> Iterator[tuple[str, Registry]]:
    url = database_url
    db = Database(url, "registry")
    upgrade(db, MIGRATIONS)
    registry = Registry(db)
    Loader(registry).load_district(build_district())
    try:
        yield url, registry
    finally:
        db.dispose()


def addresses() -> list[str]:
    """What the benchmark asks: each community's first keyword in a street address,
    and a few that name no community or two."""
    district = build_district()
    named = [
        f"广州市天河区{c['address_keywords'][0]}{10 + i % 90}号"
        for i, c in enumerate(district.communities)
        if c["address_keywords"]
    ]
    return [*named, "广州市越秀区北京路1号", district.communities[0]["name"]]


def test_the_baseline_answers_as_the_registry_does(demo: tuple[str, Registry]) -> None:
    url, registry = demo
    app = baseline_module()

    async def ask_all() -> dict[str, dict | int]:  # type: ignore[type-arg]
        engine = app.engine_for(url, pool_size=1)
        answers: dict[str, dict | int] = {}  # type: ignore[type-arg]
        try:
            async with engine.connect() as conn:
                for address in addresses():
                    try:
                        result = await app.find_station(conn, address)
                        answers[address] = json.loads(result.model_dump_json())
                    except HTTPException as refused:
                        answers[address] = refused.status_code
        finally:
            await engine.dispose()
        return answers

    answers = asyncio.run(ask_all())
    found = 0
    for address, answer in answers.items():
        try:
            reply = registry.find_station(pb.FindStationRequest(address=address))
        except DomainError as error:
            assert answer == problem_from_domain_error(error).status, address
            continue
        expected = json.loads(
            s.FindStationResult.model_validate(message_to_dict(reply)).model_dump_json()
        )
        assert isinstance(answer, dict), (address, answer)
        assert answer["station"]["name"] == reply.station.name
        assert answer == expected, address
        found += 1
    assert found >= 150  # nearly every community has a station in the demo district
