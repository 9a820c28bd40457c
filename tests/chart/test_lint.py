"""`helm lint --strict` of both charts, with the defaults and every profile."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import pytest
from chart_support import CHART, KUBE_VERSION, LIBRARY, PROFILES

INFO = 1


def _problems(report: dict[str, Any]) -> list[str]:
    # Strict lint: anything above "info" (e.g. "icon is recommended") fails.
    return [
        f"{message['path']}: {message['error']}"
        for message in report["messages"]
        if message["severity"] > INFO
    ] + list(report["errors"])


@pytest.mark.chart
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_umbrella_chart_lints_clean(profile: str, chart: helm.Chart) -> None:
    report = helm.lint(
        CHART,
        PROFILES[profile](),
        strict=True,
        with_subcharts=True,
        kube_version=f"v{KUBE_VERSION}",
        namespace="liaison-test",
    )
    assert report["total_charts_linted"] >= 1
    assert _problems(report) == []


@pytest.mark.chart
def test_service_library_lints_clean() -> None:
    report = helm.lint(LIBRARY, strict=True, kube_version=f"v{KUBE_VERSION}")
    assert _problems(report) == []


@pytest.mark.chart
def test_lint_reports_a_misspelt_key_by_name(chart: helm.Chart) -> None:
    report = helm.lint(CHART, {"services": {"registry": {"wokrer": {"replicas": 2}}}}, strict=True)
    assert any("wokrer" in problem for problem in _problems(report)), report
