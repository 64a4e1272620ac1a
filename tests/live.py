"""Run the real service in a subprocess, the way users meet it, for tests.

A :class:`LiveServer` is gunicorn (the Procfile's command: ``workers`` sync workers, or
gthread with ``threads``) or ``manage.py runserver``, started on a free 127.0.0.1 port
with an environment the test chooses (:func:`production_env` gives DEBUG=0 with a secret
key and allowed hosts, and nothing inherited from the test run). ``start()`` returns once
its liveness probe answers; ``stop()`` ends the server and all its workers. Its stdout and
stderr go to one log file, which :meth:`LiveServer.log` reads back.

The fixtures in ``tests/conftest.py`` build on it:

- ``live_database_url``: a migrated database with the demo data, fresh for each test,
  that the server (and only the server) uses: a copied SQLite file, or on PostgreSQL a
  database cloned from a template made once per run. Ask for ``empty_database_url`` for
  a migrated database without data (an empty deployment that grows), or, on PostgreSQL,
  ``shared_database_url`` for the test database itself (a ``transactional_db`` test).
- ``live_service``: ``live_service(env, workers=2, threads=0, server="gunicorn")`` starts
  a server and stops it after the test; when the test fails its log is shown in the
  report ("live server log").

For example::

    def test_answers(live_service, live_database_url):
        server = live_service(production_env(live_database_url))
        assert requests.get(f"{server.url}/version").text == "1.0.0"
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
SECRET_KEY = "live-test-secret-key-not-for-production-0123456789"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
# What a subprocess needs from the test run's environment; everything else is chosen.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (the server binds it right after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**variables: str | None) -> dict[str, str]:
    """The bare process environment plus ``variables`` (``None`` values are left out)."""
    env = {key: os.environ[key] for key in INHERITED if key in os.environ}
    env.update({key: str(value) for key, value in variables.items() if value is not None})
    return env


def production_env(database_url: str, **variables: str | None) -> dict[str, str]:
    """A production deployment: DEBUG=0, a secret key, 127.0.0.1 as the allowed host, no
    Redis and no MAL unless given (``REDIS_URL=...``, ``MAL_API_URL=...``, ...). Plain
    HTTP (HTTPS=0): no TLS proxy stands in front of a test server."""
    defaults = dict(DEBUG="0", SECRET_KEY=SECRET_KEY, ALLOWED_HOSTS="127.0.0.1,localhost",
                    HTTPS="0", DATABASE_URL=database_url, LOG_LEVEL="WARNING")
    return clean_env(**{**defaults, **variables})


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run ``manage.py ARGS`` with ``env``; its output, or an AssertionError showing it."""
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def gunicorn_command(port: int, *, workers: int = 2, threads: int = 0) -> list[str]:
    """The Procfile's ``web`` command, bound to 127.0.0.1:``port``."""
    command = [str(Path(sys.executable).with_name("gunicorn")), "reko.wsgi",
               "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
               "--timeout", "120", "--access-logfile", "-", "--graceful-timeout", "5",
               # gunicorn's default control socket is one path per user: servers would clash.
               "--no-control-socket"]
    if threads:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    return command


def runserver_command(port: int) -> list[str]:
    return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]


class LiveServer:
    def __init__(self, env: dict[str, str], log_path: Path, *, server: str = "gunicorn",
                 workers: int = 2, threads: int = 0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if server == "gunicorn":
            self.command = gunicorn_command(self.port, workers=workers, threads=threads)
        elif server == "runserver":
            self.command = runserver_command(self.port)
        else:
            raise ValueError(f"unknown server {server!r}")
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> "LiveServer":
        """Start the server and wait (at most ``timeout``) until ``/health/live`` answers
        (the probe answers whatever ``HTTPS`` and ``ALLOWED_HOSTS`` say, and is no request
        a test counts)."""
        with open(self.log_path, "ab") as log:
            # A session of its own, so that stop() reaches every worker.
            self.process = subprocess.Popen(self.command, cwd=REPO, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer /health/live within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM to the server's process group (gunicorn stops its workers gracefully),
        SIGKILL if it has not exited after STOP_TIMEOUT_SECONDS."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def log(self) -> str:
        """Everything the server wrote so far (access log and errors)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
