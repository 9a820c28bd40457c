"""The README's commands work as written: every shell command it shows runs
against the platform started as `make up` starts it, in one shell (so
`TOKEN=$(...)` carries over), exits 0, and every curl in it gets a 2xx.

The project's own verbs are not run from here: `make up` is what this
module starts (its recipe is checked to run the same thing), and every
`make` verb the README names must be one `make help` lists. Commands that
cannot run here are in NOT_RUN, each with the reason.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from kit.settings import GATEWAY_HTTP_PORT

# `make up` loads every service's demo into its SQLite files: minutes on two
# busy cores, past the suite's 300 s a test (its start has its own limit).
pytestmark = [pytest.mark.e2e, pytest.mark.rabbitmq, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SHELL_LANGUAGES = {"sh", "bash", "shell"}
# Commands the README shows that this test does not run, by how they start.
NOT_RUN = {
    # Builds one image with a Docker daemon, which the test machines do not
    # run; tests/containers builds every image (podman) and runs them.
    "docker build": "needs a Docker daemon",
}
# Each curl prints its status here (to stderr), so the test sees every answer.
CURL_STATUS = "README-curl-status"
MARKER = "README-command-at-line"
# The function every command's curl goes through: a 4xx or 5xx stops the
# script (and `set -e` with it), and the status is reported for the 2xx check.
CURL_WRAPPER = (
    "curl() { command curl --fail-with-body "
    f"--write-out '%{{stderr}}{CURL_STATUS} %{{http_code}} %{{url_effective}}\\n' \"$@\"; }}"
)
LOCAL = f"http://127.0.0.1:{GATEWAY_HTTP_PORT}"
CURL_CALL = re.compile(r"(?:^|[\s;|&(`])curl(?=\s)")


@dataclass(frozen=True)
class Command:
    line: int  # where it starts in the Markdown, 1-based
    text: str  # as written, continuation lines included

    @property
    def verb(self) -> str:
        """The first two words: `make up`, `docker build`, `curl http://...`."""
        return " ".join(self.text.split()[:2])


def _complete(text: str) -> bool:
    """Whether bash reads the text as whole commands (no open quote, `\\`, `$(`)."""
    return (
        subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True).returncode == 0
    )


def shell_commands(markdown: str) -> list[Command]:
    """The commands of every shell block: indented ones and fenced sh/bash/shell."""
    commands: list[Command] = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type == "code_block" or (
            token.type == "fence"
            and token.info.split()[:1]
            and token.info.split()[0] in SHELL_LANGUAGES
        ):
            assert token.map is not None
            first = token.map[0] + 1
            if token.type == "fence":
                first += 1  # the ``` line
            pending: list[str] = []
            start = first
            for number, line in enumerate(token.content.splitlines(), start=first):
                if not pending:
                    if not line.strip() or line.lstrip().startswith("#"):
                        continue
                    start = number
                pending.append(line)
                text = "\n".join(pending)
                if not text.endswith("\\") and _complete(text):
                    commands.append(Command(start, text.strip()))
                    pending = []
            if pending:  # never completes: bash reports it when run
                commands.append(Command(start, "\n".join(pending).strip()))
    return commands


def inline_make_verbs(markdown: str) -> set[str]:
    """`make <verb>` named in the prose, as inline code."""
    verbs = set()
    for token in MarkdownIt("commonmark").parse(markdown):
        for child in token.children or []:
            if child.type == "code_inline" and child.content.startswith("make "):
                verbs.add(child.content.split()[1])
    return verbs


def make_help() -> set[str]:
    result = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    return {line.split()[0] for line in plain.splitlines() if line.strip()}


def run_commands(commands: list[Command]) -> None:
    """Run the commands in one bash, in order; fail naming the first that fails
    or whose curl did not get a 2xx."""
    script = ["set -euo pipefail", CURL_WRAPPER]
    for command in commands:
        # On a line of its own, whatever curl's progress meter left before it.
        script += [f"printf '\\n%s\\n' '{MARKER} {command.line}' >&2", command.text]
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    by_line = {c.line: c for c in commands}
    # [before the first marker, line, its stderr, line, its stderr, ...]
    parts = re.split(rf"^{MARKER} (\d+)$", result.stderr, flags=re.M)
    ran = [
        (by_line[int(line)], stderr) for line, stderr in zip(parts[1::2], parts[2::2], strict=True)
    ]
    output = f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    if result.returncode != 0:
        failed = ran[-1][0] if ran else commands[0]
        raise AssertionError(
            f"README line {failed.line} exits with {result.returncode}:\n{failed.text}\n{output}"
        )
    for command, stderr in ran:
        statuses = re.findall(rf"{CURL_STATUS} (\d{{3}}) (\S*)", stderr)
        calls = len(CURL_CALL.findall(command.text))
        if len(statuses) != calls:
            raise AssertionError(
                f"README line {command.line}: {calls} curl call(s) but {len(statuses)} status(es) "
                f"reported (a --write-out of its own hides them):\n{command.text}\n{output}"
            )
        for status, url in statuses:
            if not status.startswith("2"):
                raise AssertionError(
                    f"README line {command.line}: {url} answered {status}, not 2xx:\n"
                    f"{command.text}\n{output}"
                )


def to_run(commands: list[Command]) -> list[Command]:
    return [
        c
        for c in commands
        if not c.text.startswith("make ") and not any(c.text.startswith(v) for v in NOT_RUN)
    ]


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def platform(local_run: Any) -> Any:
    local_run.start()
    return local_run


def test_every_shell_command_in_the_readme_works(readme: str, platform: Any) -> None:
    commands = to_run(shell_commands(readme))
    # Guards the parser: the README's API tour is there and was found.
    assert any("/api/v1/dev/tokens" in c.text for c in commands), commands
    elsewhere = [c for c in commands if "curl" in c.text and LOCAL not in c.text]
    assert not elsewhere, f"README curls that do not call the local platform ({LOCAL}): {elsewhere}"
    run_commands(commands)


# A broken command, and how the failure is reported: curl exits with 22 on
# a 4xx or 5xx (--fail-with-body); anything else not 2xx is caught from its status.
BROKEN = {
    "a raw UTF-8 query": (
        "    curl 'http://127.0.0.1:8000/api/v1/find-station?address=林和路'\n",
        "exits with 22",
    ),
    "a wrong path": ("    curl http://127.0.0.1:8000/api/v1/no-such-resource\n", "exits with 22"),
    "a redirect, not an answer": (
        "    curl http://127.0.0.1:8000/api/v1/streets/\n",
        "answered 307, not 2xx",
    ),
    "a write without a token": (
        "    curl -X POST http://127.0.0.1:8000/api/v1/streets \\\n"
        '      -H \'content-type: application/json\' -d \'{"code": "x", "name": "x"}\'\n',
        "exits with 22",
    ),
    "a variable never set": (
        '    curl -H "authorization: Bearer $NO_TOKEN" http://127.0.0.1:8000/healthz\n',
        "exits with 1",
    ),
    "a failing pipe": (
        "```bash\n"
        "curl -s http://127.0.0.1:8000/api/v1/dev/accounts | python3 -c 'import sys; sys.exit(3)'\n"
        "```\n",
        "exits with 3",
    ),
    "its own --write-out": (
        "    curl -w '%{http_code}' http://127.0.0.1:8000/healthz\n",
        "1 curl call\\(s\\) but 0 status",
    ),
}


@pytest.mark.parametrize(("block", "report"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_command_in_the_readme_fails_the_test(
    block: str, report: str, platform: Any
) -> None:
    working = "    curl http://127.0.0.1:8000/api/v1/dev/accounts\n"
    markdown = f"Some prose.\n\n{working}\nMore.\n\n{block}"
    commands = shell_commands(markdown)
    assert len(commands) == 2, commands
    with pytest.raises(AssertionError, match=f"README line {commands[1].line}.*{report}"):
        run_commands(commands)


def test_commands_split_where_bash_does() -> None:
    markdown = (
        "Text.\n\n"
        "    # a comment\n"
        "    A=$(echo one \\\n"
        "      two)\n"
        "    echo '{\n"
        '      "multi": "line"\n'
        "    }'\n\n"
        "```text\nnot a command\n```\n\n"
        "```bash\necho fenced\n```\n"
    )
    commands = shell_commands(markdown)
    assert [(c.line, c.text.splitlines()[0]) for c in commands] == [
        (4, "A=$(echo one \\"),
        (6, "echo '{"),
        (15, "echo fenced"),
    ]


def test_every_fenced_block_says_what_it_holds(readme: str) -> None:
    """An unlabelled fence could hide a command from this test."""
    fences = [t for t in MarkdownIt("commonmark").parse(readme) if t.type == "fence"]
    unlabelled = [t.map[0] + 1 for t in fences if t.map and not t.info.strip()]
    assert not unlabelled, f"README fences without a language at lines {unlabelled}"


def test_the_readmes_make_verbs_exist(readme: str) -> None:
    verbs = {c.text.split()[1] for c in shell_commands(readme) if c.text.startswith("make ")}
    verbs |= inline_make_verbs(readme)
    assert {"up", "test"} <= verbs
    assert verbs <= make_help()


def test_the_readmes_other_commands_not_run_are_listed(readme: str) -> None:
    shown = {c.verb for c in shell_commands(readme)} | {
        " ".join(child.content.split()[:2])
        for t in MarkdownIt("commonmark").parse(readme)
        for child in t.children or []
        if child.type == "code_inline" and child.content.startswith("docker ")
    }
    assert {v for v in shown if v.startswith("docker ")} <= set(NOT_RUN)


def test_make_up_runs_what_this_module_starts() -> None:
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "up"], cwd=ROOT, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr
    assert re.search(r"python -m kit\.devrun$", dry.stdout, re.M), dry.stdout


def test_make_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z][\w-]*):(?!=)", makefile, re.M))
    assert targets and targets <= make_help(), targets - make_help()
