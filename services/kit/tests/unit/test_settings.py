"""Settings: LIAISON_ENV from an allow-list, and any value the platform
cannot use stops the process with an error naming the variable."""

from __future__ import annotations

import pytest

from kit.settings import ENVIRONMENTS, Settings, SettingsError, environment


@pytest.mark.parametrize("value", ENVIRONMENTS)
def test_each_allowed_environment_loads(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LIAISON_ENV", value)
    settings = Settings.load("registry", "api")
    assert settings.env == value
    assert settings.is_production == (value == "production")


def test_the_environment_defaults_to_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIAISON_ENV", raising=False)
    assert environment() == "development"
    monkeypatch.setenv("LIAISON_ENV", "")
    assert environment() == "development"


@pytest.mark.parametrize("value", ["prod", "Production", "staging", "dev"])
def test_any_other_environment_is_a_startup_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LIAISON_ENV", value)
    with pytest.raises(SettingsError) as refused:
        Settings.load("registry", "worker")
    message = str(refused.value)
    assert "LIAISON_ENV" in message and repr(value) in message
    assert "development, test, production" in message


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("LIAISON_OUTBOX_BATCH_SIZE", "many", "LIAISON_OUTBOX_BATCH_SIZE must be a whole number"),
        ("LIAISON_OUTBOX_BATCH_SIZE", "0", "LIAISON_OUTBOX_BATCH_SIZE must be at least 1"),
        ("LIAISON_GRPC_PORT", "-1", "LIAISON_GRPC_PORT must be at least 0"),
        ("LIAISON_OUTBOX_POLL_SECONDS", "soon", "LIAISON_OUTBOX_POLL_SECONDS must be a number"),
        ("LIAISON_GRPC_DEADLINE_SECONDS", "0", "LIAISON_GRPC_DEADLINE_SECONDS must be above 0"),
        ("LIAISON_LOG_FORMAT", "xml", "LIAISON_LOG_FORMAT must be one of json, text"),
        ("LIAISON_LOG_LEVEL", "LOUD", "LIAISON_LOG_LEVEL must be one of DEBUG"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=said):
        Settings.load("registry", "api")


def test_values_are_read_and_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIAISON_LOG_LEVEL", " warning ")
    monkeypatch.setenv("LIAISON_OUTBOX_BATCH_SIZE", "50")
    monkeypatch.setenv("LIAISON_REGISTRY_DATABASE_URL", "postgresql://db/registry")
    settings = Settings.load("registry", "worker")
    assert settings.log_level == "WARNING"
    assert settings.outbox_batch_size == 50
    assert settings.database_url == "postgresql://db/registry"
