"""A deployment that forgets a variable stays safe, and no page shows a secret."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
SHOW = "from django.conf import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS)"


def _settings_of(**env) -> subprocess.CompletedProcess:
    """Load reko.settings in a fresh process with only these variables set."""
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="reko.settings")
    return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=60)


def test_without_debug_or_secret_key_the_service_refuses_to_start():
    result = _settings_of()
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_is_off_unless_asked_for_and_no_host_is_served_by_default():
    result = _settings_of(SECRET_KEY="s3cret-for-this-test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False []"


def test_development_asks_for_debug_and_serves_only_local_hosts():
    result = _settings_of(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True ['localhost', '127.0.0.1', '[::1]']"


SECRETS = {
    "MAL_CLIENT_ID": "mal-client-0123456789",
    "REDIS_URL": "redis://:redis-pass-4242@10.9.8.7:6379/3",
}


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
def test_a_failure_outside_the_api_views_shows_no_secret(settings, monkeypatch, debug):
    from reko import middleware

    settings.DEBUG = debug
    settings.MAL_CLIENT_ID = SECRETS["MAL_CLIENT_ID"]
    settings.REDIS_URL = SECRETS["REDIS_URL"]
    monkeypatch.setenv("DATABASE_URL", "postgres://reko:db-pass-777@10.9.8.6:5432/reko")

    def cache_down(*args, **kwargs):
        location = settings.REDIS_URL  # a frame local, as in the Redis client's own frames
        raise ConnectionError(f"cannot reach {location}")

    monkeypatch.setattr(middleware, "get_usage", cache_down)
    response = Client(raise_request_exception=False).get(
        "/someone/similar", DATABASE_URL=os.environ["DATABASE_URL"],
        HTTP_X_MAL_CLIENT_ID=SECRETS["MAL_CLIENT_ID"])
    assert response.status_code == 500
    page = response.content.decode()
    if debug:  # Django's debug page: it does list the settings and the request's variables
        assert "MAL_API_URL" in page and "cannot reach" in page
    for secret in ("mal-client-0123456789", "redis-pass-4242", "10.9.8.7:6379", "db-pass-777",
                   settings.SECRET_KEY):
        assert secret not in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite has no server connection to lose")
def test_the_first_request_after_the_database_dropped_a_connection_succeeds():
    """Like a database restart under a running worker: the worker's persistent connection
    is dead, and its next request must still be answered."""
    import psycopg
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import RequestFactory

    from tests.factories import MalUserFactory

    MalUserFactory(username="steady_user", hash=0x8000_0000_0000_0001)
    # A user the worker has not read yet, so the second request must query the database.
    MalUserFactory(username="second_user", hash=0x8000_0000_0000_0001)
    handler = WSGIHandler()  # the real request cycle: it closes and checks connections

    def get(path):
        statuses = []
        environ = RequestFactory().get(path).environ
        body = b"".join(handler(environ, lambda status, headers: statuses.append(status)))
        return statuses[0], body

    assert get("/steady_user/compare/steady_user")[0].startswith("200")
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        # The backend ends a moment after the signal: wait until it is gone for sure.
        for _ in range(200):
            if other.execute("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity "
                             "WHERE pid = %s)", [pid]).fetchone()[0]:
                break
            time.sleep(0.05)
    status, body = get("/second_user/compare/second_user")
    assert status.startswith("200"), body[:300]
    assert connection.connection.info.backend_pid != pid
