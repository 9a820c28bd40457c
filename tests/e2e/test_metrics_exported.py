"""Every metric an alert rule or a dashboard panel names is one the platform
exports.

An alert on a metric nobody exports never fires, and a panel on one stays
empty: both look fine until the day they are needed. So the platform runs
(every service's migrate, api and worker, and the gateway, on PostgreSQL and
RabbitMQ), answers a read, a bad request, a miss and, with the registry's api
stopped, an outage, and its /metrics are scraped. Each PromQL expression of
charts/liaison/files/alerts.yaml and files/dashboards/*.json is parsed with
promql-parser, and each selector's metric must be among the exported series
(a histogram `h` exports h_bucket, h_sum and h_count; a counter `c`
c_total), with the labels it matches on.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from kit.services import names as built_services
from kit.testrun import Platform, running_platform

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "charts" / "liaison" / "files"

# Series Prometheus makes itself, not the targets.
PROMETHEUS_SERIES = {"up"}
# Labels a target's series get from Prometheus and the ServiceMonitors'
# relabelling (charts/README.md, Monitoring), not from the process.
TARGET_LABELS = {
    "namespace",
    "job",
    "instance",
    "pod",
    "service",
    "liaison_service",
    "liaison_process",
}
# Grafana's interval variables; a duration stands in for parsing.
GRAFANA_INTERVAL = re.compile(
    r"\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}"
)
# Series of each type, from the family name prometheus_client reports.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}


@dataclass(frozen=True)
class Selector:
    """One vector selector of an expression: where it is, its metric, its matchers."""

    source: str
    metric: str
    matchers: tuple[tuple[str, str, str], ...]  # (label, operator, value)


def _expressions() -> list[tuple[str, str]]:
    """(where, PromQL) of every alert rule and every dashboard panel target."""
    found: list[tuple[str, str]] = []
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            found.append((f"alerts.yaml {name}", rule["expr"]))

    def panels(items: list[dict[str, Any]], dashboard: str) -> None:
        for panel in items:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    found.append((f"{dashboard} panel {panel.get('title')!r}", target["expr"]))
            panels(panel.get("panels", []), dashboard)  # rows hold panels

    for path in sorted((MONITORING / "dashboards").glob("*.json")):
        panels(json.loads(path.read_text())["panels"], path.name)
    return found


def _selectors(source: str, expression: str) -> list[Selector]:
    parsed = promql_parser.parse(GRAFANA_INTERVAL.sub("5m", expression))
    found: list[Selector] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = tuple(
                (m.name, str(m.op).rsplit(".", 1)[-1], m.value) for m in node.matchers.matchers
            )
            names = [v for label, op, v in matchers if label == "__name__" and op == "Equal"]
            metric = node.name or (names[0] if names else "")
            assert metric, f"{source}: a selector without a metric name: {expression}"
            found.append(Selector(source, metric, tuple(m for m in matchers if m[0] != "__name__")))

    promql_parser.walk(parsed, visit)
    return found


SELECTORS = [s for where, expr in _expressions() for s in _selectors(where, expr)]


def _planned_services() -> set[str]:
    """Services the platform will have (the chart has an entry for each) but
    that are not built yet (kit's list of services names only built ones)."""
    values = yaml.safe_load((REPO / "charts" / "liaison" / "values.yaml").read_text())
    return set(values["services"]) - set(built_services())


# A built service's own metrics that its alerts and panels name before the
# part that measures them is built, each with why (the service's README says
# what is not built yet). Keep this short: each entry is an alert that cannot fire.
NOT_YET_EXPORTED: dict[str, str] = {}


def _of_a_planned_service(metric: str) -> bool:
    # Alerts and panels may be written ahead for a planned service's own
    # metrics (liaison_<service>_...); once the service is built they count.
    return metric in NOT_YET_EXPORTED or any(
        metric.startswith(f"liaison_{name}_") for name in _planned_services()
    )


@dataclass
class Scrape:
    """What one process exported: series names (from the families' types) and samples."""

    process: str
    series: set[str]
    samples: list[Sample]


def _scrape(process: str, url: str) -> Scrape:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    series: set[str] = set()
    samples: list[Sample] = []
    for family in text_string_to_metric_families(text):
        series.update(family.name + suffix for suffix in SUFFIXES[family.type])
        samples.extend(family.samples)
    series.update(sample.name for sample in samples)
    return Scrape(process, series, samples)


def _wait_for_sample(platform: Platform, process: str, metric: str) -> None:
    """Wait for the process to serve /metrics (the worker starts after the
    gateway is ready) and for a gauge its loop sets after the first pass."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            scraped = _scrape(process, platform.metrics_urls[process])
        except OSError:
            scraped = Scrape(process, set(), [])
        if any(sample.name == metric for sample in scraped.samples):
            return
        time.sleep(0.5)
    raise AssertionError(f"{process} exported no {metric} sample within 60 s")


@pytest.fixture(scope="module")
def scrapes() -> Iterator[dict[str, Scrape]]:
    with (
        running_platform(load_demo=True, demo_template=True) as platform,
        httpx.Client(base_url=platform.base_url, timeout=30) as http,
    ):
        # Calls that give the labelled metrics samples: a read, a bad
        # request, a miss (gRPC NotFound).
        assert http.get("/api/v1/find-station", params={"address": "林和路"}).status_code == 200
        assert http.get("/api/v1/find-station").status_code == 422
        assert http.get("/api/v1/deputies/999999/profile").status_code == 404
        _wait_for_sample(platform, "registry-worker", "liaison_outbox_backlog")
        # The referral worker's deadline sweep sets its gauges on its first pass.
        _wait_for_sample(platform, "referral-worker", "liaison_referral_letters_open")
        # The notifications worker's sender counts deliveries on its first pass.
        _wait_for_sample(platform, "notifications-worker", "liaison_notifications_deliveries")
        # Every service's api and worker (the gateway after the outage below).
        scraped = {
            process: _scrape(process, url)
            for process, url in platform.metrics_urls.items()
            if process.endswith(("-api", "-worker"))
        }
        assert {f"{name}-{kind}" for name in built_services() for kind in ("api", "worker")} <= set(
            scraped
        ), "a service's process is not scraped"
        # An outage: the gateway answers 5xx while the registry's api is down
        # for what only the registry can answer (the public directory in the
        # gateway's memory still answers find-station).
        platform.stop("registry-api")
        outage = http.get("/api/v1/streets")
        assert outage.status_code in (502, 503, 504), outage.text
        still = http.get("/api/v1/find-station", params={"address": "林和路"})
        assert still.status_code == 200, "the public directory outlives the registry's outage"
        scraped["gateway"] = _scrape("gateway", platform.metrics_urls["gateway"])
        yield scraped


def test_alerts_and_panels_name_metrics() -> None:
    # The parse found what the files hold (a parser that saw nothing would
    # make every other test here pass).
    metrics = {s.metric for s in SELECTORS}
    assert len(_expressions()) >= 10
    assert {"grpc_server_handled_total", "liaison_outbox_backlog", "up"} <= metrics


def test_every_metric_named_by_an_alert_or_a_panel_is_exported(
    scrapes: dict[str, Scrape],
) -> None:
    exported = set().union(*(s.series for s in scrapes.values()))
    recorded = {
        rule["record"]
        for group in yaml.safe_load((MONITORING / "alerts.yaml").read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    missing = sorted(
        {
            f"{s.metric} ({s.source})"
            for s in SELECTORS
            if s.metric not in exported | PROMETHEUS_SERIES | recorded
            and not _of_a_planned_service(s.metric)
        }
    )
    assert missing == [], "named but exported by no process:\n" + "\n".join(missing)
    ahead = sorted({s.metric for s in SELECTORS if _of_a_planned_service(s.metric)})
    print(f"written ahead for planned services ({sorted(_planned_services())}): {ahead}")


def test_the_labels_they_match_on_are_exported(scrapes: dict[str, Scrape]) -> None:
    samples = [sample for scrape in scrapes.values() for sample in scrape.samples]
    unchecked, wrong = set(), []
    for selector in SELECTORS:
        labels = {label for label, _, _ in selector.matchers} - TARGET_LABELS
        series = [s for s in samples if s.name == selector.metric]
        if not labels:
            continue
        if not series:
            unchecked.add(selector.metric)  # exported, but no sample to read labels from
            continue
        carried = set().union(*(set(s.labels) for s in series))
        if labels - carried:
            wrong.append(f"{selector.source}: {selector.metric} has no {sorted(labels - carried)}")
    assert wrong == []
    print(f"no samples to check labels on: {sorted(unchecked)}")


def _matches(selector: Selector, sample: Sample) -> bool:
    for label, operator, value in selector.matchers:
        if label in TARGET_LABELS:
            continue
        actual = sample.labels.get(label, "")
        if operator == "Equal" and actual != value:
            return False
        if operator == "NotEqual" and actual == value:
            return False
        if operator == "Re" and not re.fullmatch(value, actual):
            return False
        if operator == "NotRe" and re.fullmatch(value, actual):
            return False
    return True


def test_the_gateway_5xx_alert_counts_an_outage(scrapes: dict[str, Scrape]) -> None:
    (expression,) = [
        expr
        for where, expr in _expressions()
        if where == "alerts.yaml LiaisonGatewayHttp5xxRatioHigh"
    ]
    numerator = next(
        s for s in _selectors("5xx", expression) if any(op == "Re" for _, op, _ in s.matchers)
    )
    failed = [
        sample
        for sample in scrapes["gateway"].samples
        if sample.name == numerator.metric and _matches(numerator, sample) and sample.value > 0
    ]
    assert failed, f"no {numerator.metric} sample matches {numerator.matchers} after an outage"
