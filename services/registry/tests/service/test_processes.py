"""The registry's entry points as the platform runs them: migrate, then api
and worker as processes (each wired by registry.bootstrap), on PostgreSQL and
RabbitMQ; both report ready and stop cleanly on SIGTERM."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kit.grpc_client import with_bearer
from kit.testrun import Platform
from liaison.registry.v1 import registry_pb2 as pb
from liaison.registry.v1 import registry_pb2_grpc as pb_grpc

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


def test_api_and_worker_start_from_the_bootstrap_and_stop_on_sigterm(
    launch_platform: Callable[..., Platform],
) -> None:
    platform = launch_platform(
        ["registry"], extra_env={"LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN": "123456"}
    )
    assert set(platform.processes) == {"registry-api", "registry-worker"}
    for process in platform.processes.values():
        with urllib.request.urlopen(process.ready_url, timeout=5) as response:
            assert response.status == 200  # migrated, and the database answers

    with grpc.insecure_channel(platform.grpc_target("registry")) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="liaison.registry.v1.RegistryService"),
            timeout=10,
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        # The api's registry was built from the settings the bootstrap read.
        stub = pb_grpc.RegistryServiceStub(with_bearer(channel, platform.token("admin")))
        street = stub.CreateStreet(
            pb.CreateStreetRequest(street=pb.Street(code="linhe", name="林和街道")), timeout=10
        )
        unit = stub.CreateUnit(
            pb.CreateUnitRequest(
                unit=pb.Unit(
                    code="linhe-sc",
                    name="林和街道工委",
                    kind=pb.UNIT_KIND_STREET_COMMITTEE,
                    street_id=street.id,
                )
            ),
            timeout=10,
        )
        (check,) = stub.CheckBudgets(pb.CheckBudgetsRequest(year=2024), timeout=10).checks
        assert (check.unit_id, check.minimum_yuan) == (unit.id, 123_456)

    assert platform.stop("registry-worker") == 0, platform.log_tail("registry-worker")
    assert platform.stop("registry-api") == 0, platform.log_tail("registry-api")
