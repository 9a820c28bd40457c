"""The alert rules: valid for Prometheus (`promtool check rules`), behaving
as intended (`promtool test rules` on alerts_test.yaml), every alert tested."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from chart_support import CHART

from kit.required_tools import require_tool

pytestmark = pytest.mark.chart

RULES = CHART / "files" / "alerts.yaml"
RULE_TESTS = Path(__file__).resolve().parent / "alerts_test.yaml"


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_tool("promtool", "apt-get install -y --no-install-recommends prometheus")


def _run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_rules_are_valid(promtool: str) -> None:
    result = _run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_pass_their_unit_tests(promtool: str) -> None:
    result = _run(promtool, "test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_that_fires_it() -> None:
    alerts = {
        rule["alert"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    }
    fired = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    assert alerts == fired


def test_the_alerts_named_in_the_architecture_exist() -> None:
    expressions = " ".join(
        rule["expr"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    )
    for metric in (
        "up{",
        'grpc_server_handled_total{grpc_code=~"Unknown|Internal|Unavailable|DataLoss|DeadlineExceeded|Unimplemented"}',
        "liaison_outbox_backlog",
        "liaison_outbox_oldest_age_seconds",
        "increase(liaison_events_dead_lettered_total[15m])",
        "liaison_consumer_lag_messages",
        "liaison_referral_letters_overdue",
        'liaison_gateway_http_requests_total{status=~"5.."}',
    ):
        assert metric in expressions, metric
