"""The platform's pytest plugin: the fixtures every service's tests share.

liaison-kit registers it as a `pytest11` entry point, so any pytest run in
the workspace has it. The work is done by `kit.testrun` (which benchmarks
use too); here it becomes fixtures. Where the servers are: see kit.testrun
(LIAISON_TEST_POSTGRES_URL, LIAISON_TEST_AMQP_URI). Tests that need a server
that is down fail saying so; they never skip, since a skipped storage test
would hide a broken build.

| fixture             | scope    | gives                                                       |
|---------------------|----------|-------------------------------------------------------------|
| postgres_admin_url  | session  | the admin URL, once PostgreSQL answered                     |
| make_database       | function | make_database(template=None): a throwaway database's URL    |
| database_url        | function | one empty throwaway database                                |
| amqp_uri            | session  | the broker's URI, once RabbitMQ answered                    |
| broker              | function | a kit.testrun.Broker; its queues and exchanges deleted after |
| stop_broker         | function | `with stop_broker():` runs a block while RabbitMQ is stopped |
| free_port           | function | free_port(): a local TCP port nothing listens on            |
| launch_platform     | function | launch_platform(services, load_demo=, gateway=): a Platform |
| platform            | module   | every listed service and the gateway running, demo data in  |

When two or more modules of a run use a whole platform with the demo
(`platform`, or a fixture of that name in tests/e2e), the demo is loaded
once, after collection and before the first test, and each module's
platform starts on copies of its databases (kit.testrun.DemoTemplates): a
module's platform is then ready in under a minute rather than several.

Session- or module-scoped databases (a template built once, copied per
module) use `kit.testrun.throwaway_database(..., template=url)` directly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from kit import testrun
from kit.testrun import Broker, Platform


def _fail_unless(check: Callable[[], str]) -> str:
    try:
        return check()
    except testrun.ServerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The PostgreSQL admin URL; fails the test when the server is down."""
    return _fail_unless(testrun.check_postgres)


@pytest.fixture
def make_database(postgres_admin_url: str) -> Iterator[Callable[..., str]]:
    """make_database(template=None, prefix="liaison_test"): a new database,
    empty or a copy of `template`; every one dropped when the test ends."""
    with contextlib.ExitStack() as stack:

        def make(template: str | None = None, prefix: str = "liaison_test") -> str:
            return stack.enter_context(
                testrun.throwaway_database(prefix, template=template, admin_url=postgres_admin_url)
            )

        yield make


@pytest.fixture
def database_url(make_database: Callable[..., str]) -> str:
    """One empty throwaway database for this test."""
    return make_database()


@pytest.fixture(scope="session")
def amqp_uri() -> str:
    """The broker's URI; fails the test when RabbitMQ is down."""
    return _fail_unless(testrun.check_rabbitmq)


@pytest.fixture
def broker(amqp_uri: str) -> Iterator[Broker]:
    helper = Broker(amqp_uri)
    yield helper
    helper.cleanup()


@pytest.fixture
def stop_broker(amqp_uri: str) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """`with stop_broker(): ...` runs the block while RabbitMQ is stopped."""
    return lambda: testrun.rabbitmq_stopped(amqp_uri)


@pytest.fixture
def free_port() -> Callable[[], int]:
    """free_port(): a local TCP port nothing listens on now."""
    return testrun.free_port


@pytest.fixture
def launch_platform(postgres_admin_url: str, amqp_uri: str) -> Iterator[Callable[..., Platform]]:
    """launch_platform(services=None, load_demo=False, gateway=False, extra_env=None):
    the named services (every listed one by default) running as processes on
    throwaway databases, ready; stopped when the test ends."""
    with contextlib.ExitStack() as stack:

        def launch(
            services: Iterable[str] | None = None,
            *,
            load_demo: bool = False,
            gateway: bool = False,
            extra_env: dict[str, str] | None = None,
        ) -> Platform:
            return stack.enter_context(
                testrun.running_platform(
                    services, load_demo=load_demo, gateway=gateway, extra_env=extra_env
                )
            )

        yield launch


@pytest.fixture(scope="module")
def platform(postgres_admin_url: str, amqp_uri: str) -> Iterator[Platform]:
    """The whole platform (every listed service and the gateway) with its demo
    data, shared by a module's tests: the session's first loads the demo, the
    others start on copies of its databases (kit.testrun.DemoTemplates)."""
    with testrun.running_platform(demo_template=True) as running:
        yield running


def pytest_report_header(config: Any) -> str:
    return (
        f"liaison: PostgreSQL {testrun.redacted(testrun.postgres_admin_url())}, "
        f"RabbitMQ {testrun.redacted(testrun.amqp_uri())}"
    )


# Fixtures that start a whole platform on copies of the demo's databases.
DEMO_PLATFORM_FIXTURES = frozenset({"platform", "unlimited_platform"})


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Load the demo once for the run when several modules start a whole
    platform with it; outside any test's timeout, since it takes minutes.
    A failure here is only reported: each module's platform then loads the
    demo itself and fails there, in a test's context, if it must."""
    if session.config.option.collectonly:
        return
    modules = {
        item.nodeid.split("::")[0]
        for item in session.items
        if DEMO_PLATFORM_FIXTURES & set(getattr(item, "fixturenames", ()))
    }
    if len(modules) < 2:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    say = reporter.write_line if reporter else print
    say(f"liaison: loading the demo once for the {len(modules)} modules that run the platform")
    try:
        testrun.DEMO_TEMPLATES.prepare()
    except Exception as exc:  # reported; each module then loads its own
        say(f"liaison: the demo's copies could not be kept ({exc}); each module loads its own")
