"""Fixtures: every test that touches a database runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from smmpanel.config import Settings
from tests.support.databases import REQUIRE_POSTGRES, PostgresRun, SqliteTemplate
from tests.support.panel import Panel
from tests.support.server import LiveServer

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_run() -> Iterator[PostgresRun | None]:
    run = PostgresRun()
    try:
        run.create()
    except (OSError, Exception) as error:  # unreachable server, refused login …
        reason = f"PostgreSQL unavailable: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason, pytrace=False)
        yield None
        return
    yield run
    run.drop()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: SqliteTemplate) -> str:
    """An empty, migrated database of the test's back end."""
    if request.param == "sqlite":
        return sqlite_template.fresh(tmp_path)
    run: PostgresRun | None = request.getfixturevalue("postgres_run")
    if run is None:
        pytest.skip("PostgreSQL unavailable")
    run.empty()
    return run.url


@pytest.fixture
def second_database_url(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path, sqlite_template: SqliteTemplate
) -> str:
    """Another empty, migrated database of the same back end, for a second panel."""
    if database_url.startswith("sqlite"):
        directory = tmp_path / "second"
        directory.mkdir()
        return sqlite_template.fresh(directory)
    run: PostgresRun = request.getfixturevalue("postgres_run")
    run.empty(run.second_url)
    return run.second_url


@pytest.fixture
def start_server(database_url: str) -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(**settings: object) -> LiveServer:
        """A live panel; the order engine runs only where a test asks (``run_engine=True``)."""
        values: dict[str, object] = {"database_url": database_url, "run_engine": False, **settings}
        server = LiveServer(Settings(**values)).start()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def panel(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[Panel]:
    """A live panel in the default (perfectpanel) style, with its database."""
    server = start_server()
    driver = Panel(database_url, server.api_url)
    yield driver
    driver.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With SMMPANEL_REQUIRE_POSTGRES=1 a skipped PostgreSQL test fails the run."""
    if not REQUIRE_POSTGRES:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = [r for r in (reporter.stats.get("skipped", []) if reporter else []) if "postgres" in r.nodeid]
    if skipped:
        if reporter:
            reporter.write_line(f"FAILED: {len(skipped)} PostgreSQL test(s) skipped while PostgreSQL is required")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
