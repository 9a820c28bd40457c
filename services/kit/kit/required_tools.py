"""Programs outside Python that tests drive (promtool, chromium): found, or
the test says how to install them.

Under CI (the `CI` variable set) a missing program fails the test: a skip
there would let a build pass without checking what it claims to check.
Elsewhere the test skips and names the install command;
`scripts/install-test-deps.sh` (run by `make test`) installs them all.
"""

from __future__ import annotations

import os
import shutil


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_tool(name: str, install: str, *, path: str | None = None) -> str:
    """The program's path: `path` when given, else `name` looked up on PATH.

    Call it from a fixture or a test; `install` is the command that installs
    the program on Debian.
    """
    import pytest  # only tests call this; the services' images have no pytest

    found = path if path and os.access(path, os.X_OK) else None
    if path is None:
        found = shutil.which(name)
    if found:
        return found
    reason = (
        f"{name} is not installed (looked for {path or 'it on PATH'}); "
        f"install it with `{install}`, or run `make test`, which installs it"
    )
    if in_ci():
        pytest.fail(f"{reason}. CI is set, so this fails instead of skipping.", pytrace=False)
    pytest.skip(reason)
