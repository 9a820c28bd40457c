"""The gateway reads LIAISON_ENV with kit's one parser."""

from __future__ import annotations

import pytest

from gateway.config import GatewaySettings
from kit.settings import SettingsError


def test_the_gateway_refuses_an_environment_outside_the_allow_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIAISON_ENV", "prod")
    with pytest.raises(SettingsError, match="LIAISON_ENV must be one of development, test"):
        GatewaySettings.load()
    monkeypatch.setenv("LIAISON_ENV", "test")
    assert GatewaySettings.load().env == "test"
