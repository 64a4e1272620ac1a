"""`make test` runs the PostgreSQL + Redis leg whenever both services answer, not only in
CI (checked with `make -n`: the commands are printed, the suites are not run)."""
import os
import shutil
import subprocess

import psycopg
import pytest
import redis

from tests.live import REPO, clean_env

PG_URL = "postgres://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/15"
POSTGRES_LEG = "DATABASE_URL="


def _services_up() -> bool:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except (psycopg.Error, redis.RedisError):
        return False
    return True


def _dry_run(**variables) -> str:
    arguments = [f"{name}={value}" for name, value in variables.items()]
    env = clean_env(**{k: os.environ[k] for k in ("VIRTUAL_ENV",) if k in os.environ})
    result = subprocess.run(["make", "-n", "test", *arguments], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@pytest.mark.skipif(not _services_up(), reason="PostgreSQL or Redis is not running here")
def test_make_test_runs_the_postgres_leg_when_the_services_answer():
    assert POSTGRES_LEG in _dry_run(PG_TEST_URL=PG_URL, REDIS_TEST_URL=REDIS_URL)


def test_make_test_says_so_when_it_skips_the_postgres_leg():
    output = _dry_run(PG_TEST_URL="postgres://postgres@127.0.0.1:1/test")
    assert POSTGRES_LEG not in output
    assert "the PostgreSQL + Redis run is skipped" in output


def test_ci_always_runs_the_postgres_leg():
    output = _dry_run(PG_TEST_URL="postgres://postgres@127.0.0.1:1/test", CI="true")
    assert POSTGRES_LEG in output
