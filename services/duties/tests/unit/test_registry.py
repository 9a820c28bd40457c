"""The registry client (duties.registry) against the registry's public
deputy reads served over real gRPC (duties.testing): facts without private
contact, pages followed, answers cached, a registry that is not there is
UNAVAILABLE and an unknown deputy NOT_FOUND naming it."""

from __future__ import annotations

import grpc
import pytest

from duties.registry import RegistryDeputies
from duties.testing import fake_registry
from kit.errors import NotFound, Unavailable
from liaison.registry.v1 import registry_pb2_grpc as rpb_grpc


def _client(target: str, **kwargs: float) -> RegistryDeputies:
    return RegistryDeputies(rpb_grpc.RegistryServiceStub(grpc.insecure_channel(target)), **kwargs)


def test_a_deputy_s_public_facts() -> None:
    with fake_registry() as (_, target):
        deputy = _client(target).deputy(3)
    assert (deputy.street_id, deputy.station_id, deputy.level, deputy.active) == (
        1,
        2,
        "city",
        True,
    )


def test_an_unknown_deputy_is_not_found_naming_it() -> None:
    with fake_registry() as (_, target), pytest.raises(NotFound, match="99"):
        _client(target).deputy(99)


def test_a_street_s_active_deputies_across_pages() -> None:
    with fake_registry() as (_, target):
        client = _client(target)
        assert [d.id for d in client.of_street(1)] == [1, 2, 3, 4]
        assert [d.id for d in client.of_street(2)] == [5, 6]
        assert [d.id for d in client.all_active()] == [1, 2, 3, 4, 5, 6]


def test_answers_are_kept_for_a_while() -> None:
    with fake_registry() as (registry, target):
        client = _client(target)
        client.deputy(1)
        client.deputy(1)
        assert registry.calls == 1
        fresh = _client(target, cache_seconds=0)
        fresh.deputy(1)
        fresh.deputy(1)
        assert registry.calls == 3


def test_a_registry_that_cannot_be_reached_is_unavailable() -> None:
    with fake_registry() as (_, target):
        pass  # stopped: nothing listens there any more
    with pytest.raises(Unavailable, match="nothing was changed"):
        _client(target).deputy(1)
