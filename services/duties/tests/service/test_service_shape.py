"""The duties service served as its bootstrap wires it: a caller without a
token is refused, the audit is the admin's only, and the service reports
itself healthy."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from duties.api import SERVICE_NAME
from liaison.common.v1 import auth_pb2

pytestmark = pytest.mark.postgres


def test_a_caller_without_a_token_is_refused(api: Any) -> None:
    api.refused(
        lambda: api.duties(None).ListAuditEntries(auth_pb2.ListAuditEntriesRequest()),
        grpc.StatusCode.UNAUTHENTICATED,
    )


@pytest.mark.parametrize("who", ["deputy", "street-committee", "standing-committee-office"])
def test_only_the_admin_reads_the_audit(api: Any, who: str) -> None:
    error = api.refused(
        lambda: api.duties(who).ListAuditEntries(auth_pb2.ListAuditEntriesRequest()),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "may not read the audit" in error.details()


def test_the_admin_reads_the_audit(api: Any) -> None:
    response = api.duties("admin").ListAuditEntries(auth_pb2.ListAuditEntriesRequest())
    assert list(response.entries) == []


def test_the_service_is_healthy_and_ready(api: Any) -> None:
    """SERVING once its readiness check (every 2 s, from the start) found the
    database at the newest revision: watched, not read once, so a slow first
    check under load is waited for."""
    health = health_pb2_grpc.HealthStub(api.channel)
    request = health_pb2.HealthCheckRequest(service=SERVICE_NAME)
    for answer in health.Watch(request, timeout=20):
        if answer.status == health_pb2.HealthCheckResponse.SERVING:
            return
    pytest.fail("the service never reported SERVING")
