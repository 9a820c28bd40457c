"""The registry's settings and bootstrap: its own setting read once, a bad
value stopping the process with a line that names the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.bootstrap import RegistryBootstrap
from registry.settings import BUDGET_MINIMUM_YUAN, RegistrySettings


@pytest.fixture(autouse=True)
def local_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Building the registry opens no connection; a file URL keeps it that way.
    monkeypatch.setenv("LIAISON_REGISTRY_DATABASE_URL", f"sqlite:///{tmp_path}/registry.db")
    monkeypatch.delenv("LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN", raising=False)
    monkeypatch.delenv("LIAISON_ENV", raising=False)


def test_the_budget_minimum_defaults_to_the_district_rule() -> None:
    settings = RegistrySettings.load("registry", "api")
    assert settings.budget_minimum_yuan == BUDGET_MINIMUM_YUAN == 370_000
    assert settings.service == "registry" and settings.process == "api"


def test_the_bootstrap_builds_the_registry_once_from_its_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN", "450000")
    boot = RegistryBootstrap.for_process("worker")
    try:
        assert boot.settings.budget_minimum_yuan == 450_000
        assert boot.registry is boot.registry
        assert boot.registry.db is boot.db
        assert boot.registry.budget_minimum_yuan == 450_000
    finally:
        boot.close()


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN", "37万", "must be a whole number, not '37万'"),
        ("LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN", "-1", "must be at least 0"),
        ("LIAISON_ENV", "prod", "must be one of development, test, production"),
    ],
)
def test_a_bad_setting_stops_the_process_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        RegistryBootstrap.for_process("api")
    message = str(stopped.value.code)
    assert message.startswith("registry api cannot start: ")
    assert name in message and said in message
