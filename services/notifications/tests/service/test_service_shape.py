"""The notifications service served as its bootstrap wires it: a caller without a
token is refused, the audit is the admin's only, and the service reports
itself healthy."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from liaison.common.v1 import auth_pb2
from notifications.api import SERVICE_NAME

pytestmark = pytest.mark.postgres


def test_a_caller_without_a_token_is_refused(api: Any) -> None:
    api.refused(
        lambda: api.notifications(None).ListAuditEntries(auth_pb2.ListAuditEntriesRequest()),
        grpc.StatusCode.UNAUTHENTICATED,
    )


@pytest.mark.parametrize("who", ["deputy", "street-committee", "standing-committee-office"])
def test_only_the_admin_reads_the_audit(api: Any, who: str) -> None:
    error = api.refused(
        lambda: api.notifications(who).ListAuditEntries(auth_pb2.ListAuditEntriesRequest()),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "may not read the audit" in error.details()


def test_the_admin_reads_the_audit(api: Any) -> None:
    response = api.notifications("admin").ListAuditEntries(auth_pb2.ListAuditEntriesRequest())
    assert list(response.entries) == []


def test_the_service_is_healthy_and_ready(api: Any) -> None:
    health = health_pb2_grpc.HealthStub(api.channel)
    answer = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
