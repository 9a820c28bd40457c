"""A missing program fails a test under CI and skips it elsewhere."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kit.required_tools import require_tool

INSTALL = "apt-get install -y nothing-such"


def test_a_program_on_path_is_found() -> None:
    name = Path(sys.executable).name
    assert Path(require_tool(name, INSTALL)).name == name


def test_a_program_at_a_given_path_is_found() -> None:
    assert require_tool("python", INSTALL, path=sys.executable) == sys.executable


@pytest.mark.parametrize("ci", ["true", "1"])
def test_under_ci_a_missing_program_fails(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="nothing-such"):
        require_tool("liaison-no-such-program", INSTALL)


@pytest.mark.parametrize("ci", [None, "", "false"])
def test_elsewhere_a_missing_program_skips_naming_its_install(
    monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y nothing-such"):
        require_tool("chromium", INSTALL, path="/nonexistent/chromium")
