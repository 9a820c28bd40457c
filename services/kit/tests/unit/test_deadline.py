"""check_deadline and DeadlineExceeded: how a long handler stops once its
caller's deadline has passed. The interceptor that sets the deadline is
tested against a real server in test_grpc_server.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2

from kit import grpc_server
from kit.errors import DeadlineExceeded, to_rpc_status
from kit.grpc_server import check_deadline


@contextmanager
def call_deadline(seconds_left: float) -> Iterator[None]:
    """As inside a call whose deadline is `seconds_left` away (negative: past)."""
    token = grpc_server._deadline.set(time.monotonic() + seconds_left)
    try:
        yield
    finally:
        grpc_server._deadline.reset(token)


def test_check_deadline_passes_while_time_is_left_and_outside_calls() -> None:
    check_deadline("importing row 1")
    with call_deadline(60):
        check_deadline("importing row 1")


def test_check_deadline_raises_once_the_deadline_has_passed() -> None:
    with call_deadline(-0.001), pytest.raises(DeadlineExceeded) as caught:
        check_deadline("importing row 3 of the roster")
    assert caught.value.message == (
        "the call's deadline passed while importing row 3 of the roster"
    )
    assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_deadline_exceeded_travels_as_its_status_code() -> None:
    status = to_rpc_status(DeadlineExceeded("too late"), "registry")
    assert status.code == code_pb2.DEADLINE_EXCEEDED
    assert status.message == "too late"
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain) == ("DEADLINE_EXCEEDED", "registry.liaison")
