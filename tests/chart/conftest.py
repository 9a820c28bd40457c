"""Fixtures for the chart tests: build the umbrella's dependency, render the
chart under each values profile once, and hand the tests parsed manifests."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest

# pytest runs with --import-mode=importlib: make the shared module importable.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from chart_support import CHART, NAMESPACE, PROFILES, RELEASE, Manifest, split_manifests  # noqa: E402


@pytest.fixture(scope="session")
def chart() -> Iterator[helm.Chart]:
    # The umbrella takes the generic chart from charts/liaison/charts/, which
    # `helm dependency build` fills from ../liaison-service.
    helm.dependency_build(CHART)
    with helm.Chart.load(CHART) as loaded:
        yield loaded


@pytest.fixture(scope="session")
def render(chart: helm.Chart) -> Callable[[dict[str, Any] | None], list[Manifest]]:
    def _render(values: dict[str, Any] | None = None) -> list[Manifest]:
        return split_manifests(
            chart.render(values=values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        )

    return _render


@pytest.fixture(scope="session")
def rendered_profiles(chart: helm.Chart) -> dict[str, list[Manifest]]:
    """Each profile's manifests, rendered once for the whole session."""
    rendered: dict[str, list[Manifest]] = {}
    for profile, values in PROFILES.items():
        started = time.perf_counter()
        rendered[profile] = split_manifests(
            chart.render(values=values(), name=RELEASE, namespace=NAMESPACE, is_install=True)
        )
        elapsed = time.perf_counter() - started
        print(f"rendered {profile}: {len(rendered[profile])} manifests in {elapsed:.3f}s")
    return rendered


@pytest.fixture(params=sorted(PROFILES))
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def manifests(profile: str, rendered_profiles: dict[str, list[Manifest]]) -> list[Manifest]:
    return rendered_profiles[profile]
