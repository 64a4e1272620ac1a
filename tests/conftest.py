import pytest
from django.core.cache import cache

from recommendations import live_index, neighbours, selectors
from reko import shared_cache
from tests.live import LiveServer, manage, production_env
from tests.live_db import LiveDatabases


@pytest.fixture(autouse=True)
def fresh_state():
    """Every test starts with no in-memory index, an empty cache (rate-limit counters) and
    no remembered cache outage."""
    live_index.reset_index()
    neighbours.forget_all()
    selectors.forget_cached_lists()
    shared_cache.reset()
    cache.clear()
    yield
    live_index.reset_index()
    neighbours.forget_all()
    selectors.forget_cached_lists()
    shared_cache.reset()


# --- live servers (tests/live.py) ------------------------------------------------------


@pytest.fixture(scope="session")
def live_databases(django_db_setup, tmp_path_factory):
    """Templates of the live servers' databases, made on first use, dropped after the run."""
    from django.db import connection

    databases = LiveDatabases(dict(connection.settings_dict),
                              tmp_path_factory.mktemp("live-databases"))
    yield databases
    databases.drop_templates()


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    """collectstatic once per run, as the Procfile's release step does; give it to a live
    server as ``STATIC_ROOT``."""
    folder = tmp_path_factory.mktemp("static")
    manage(production_env("sqlite://", STATIC_ROOT=str(folder)), "collectstatic", "--noinput",
           "-v0")
    return folder


@pytest.fixture
def live_database_url(live_databases):
    """A fresh, migrated database with the demo data, for a live server."""
    url = live_databases.copy(demo=True)
    yield url
    live_databases.drop(url)


@pytest.fixture
def empty_database_url(live_databases):
    """A fresh, migrated, empty database, for a live server."""
    url = live_databases.copy(demo=False)
    yield url
    live_databases.drop(url)


@pytest.fixture
def shared_database_url(transactional_db, live_databases):
    """PostgreSQL only: the test database itself, so that rows a test writes with the ORM
    (committed: the test needs ``transactional_db``) are what the live server sees."""
    from django.db import connection

    if not live_databases.is_postgres:
        pytest.skip("the SQLite test database is in memory: use live_database_url")
    return live_databases.url(connection.settings_dict["NAME"])


@pytest.fixture
def live_service(request, tmp_path):
    """``live_service(env, server="gunicorn", workers=2, threads=0)`` starts the service,
    returns the running :class:`tests.live.LiveServer`, and stops it after the test."""
    servers: list[LiveServer] = []
    request.node.live_servers = servers

    def start(env: dict[str, str], **options) -> LiveServer:
        server = LiveServer(env, tmp_path / f"server-{len(servers) + 1}.log", **options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that ran live servers shows what they logged."""
    report = yield
    if report.failed:
        for number, server in enumerate(getattr(item, "live_servers", ()), 1):
            report.sections.append((f"live server {number} log ({server.url})", server.log()))
    return report
