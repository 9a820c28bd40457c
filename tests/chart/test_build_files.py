"""skaffold.yaml, the chart and the Dockerfile agree with the one list of
services (kit/services.toml): one artifact per service, image values the
chart reads, a non-root runtime image."""

from __future__ import annotations

import helm_python as helm
import pytest
import yaml
from chart_support import CHART, REPO

from kit.services import names

pytestmark = pytest.mark.chart

SKAFFOLD = yaml.safe_load((REPO / "skaffold.yaml").read_text())
DOCKERFILE = (REPO / "Dockerfile").read_text()


def _enabled_services(chart: helm.Chart) -> set[str]:
    return {
        name
        for name, entry in chart.values["services"].items()
        if (entry or {}).get("enabled", True)
    }


def test_the_chart_enables_exactly_the_listed_services(chart: helm.Chart) -> None:
    # skaffold.yaml and values.yaml cannot read kit/services.toml: this is the link.
    assert _enabled_services(chart) == set(names())


def test_one_artifact_per_listed_service_and_the_gateway() -> None:
    artifacts = {a["image"]: a for a in SKAFFOLD["build"]["artifacts"]}
    expected = {f"liaison-{name}" for name in {*names(), "gateway"}}
    assert set(artifacts) == expected
    for image, artifact in artifacts.items():
        assert artifact["docker"]["dockerfile"] == "Dockerfile"
        assert f"liaison-{artifact['docker']['buildArgs']['SERVICE']}" == image


def test_skaffold_sets_every_image_the_chart_reads(chart: helm.Chart) -> None:
    (release,) = SKAFFOLD["deploy"]["helm"]["releases"]
    assert release["chartPath"] == "charts/liaison"
    templates = release["setValueTemplates"]
    for name in names():
        key = f"liaison_{name}"
        assert templates[f"services.{name}.image.repository"] == f"{{{{.IMAGE_REPO_{key}}}}}"
        assert templates[f"services.{name}.image.tag"] == f"{{{{.IMAGE_TAG_{key}}}}}"
    assert templates["gateway.image.repository"] == "{{.IMAGE_REPO_liaison_gateway}}"
    # The chart accepts exactly these keys (its schema rejects unknown ones)
    # and puts them in the images.
    digest = "sha256:" + "0" * 64
    values = helm.parse_set_string(
        ",".join(
            f"{key}={digest if key.endswith('.tag') else 'example.org/' + key}" for key in templates
        )
    )
    rendered = "\n".join(chart.render(values=values, name="liaison").values())
    for key in templates:
        if key.endswith(".repository"):
            assert f"example.org/{key}@sha256:" in rendered, key


def test_profiles_use_the_chart_values_files() -> None:
    profiles = {p["name"]: p for p in SKAFFOLD["profiles"]}
    assert set(profiles) == {"dev", "ci"}
    for name, profile in profiles.items():
        files = [
            patch["value"] for patch in profile["patches"] if patch["path"].endswith("/valuesFiles")
        ]
        assert files == [[f"charts/liaison/values-{name}.yaml"]]
        assert (CHART / f"values-{name}.yaml").is_file()


def test_runtime_image_is_non_root_and_runs_python_m() -> None:
    runtime = DOCKERFILE.split("AS runtime", 1)[1]
    assert "USER 10001:10001" in runtime
    assert 'ENTRYPOINT ["python", "-m"]' in runtime
    assert "uv sync --frozen --no-dev" in DOCKERFILE
    # Nothing of the builder but the venv and source reaches the runtime.
    assert [line for line in runtime.splitlines() if line.startswith("COPY")] == [
        "COPY --from=builder --chown=root:root /out /app"
    ]
