"""A private deployment on loopback for the fault and soak runs: its own PostgreSQL
cluster and Redis server on free ports (never the shared 5432/6379), gunicorn as the
Procfile runs it (``tests/live.py``, the suite's harness), and the fake MAL of the tests.

Every process is started by this module and stopped by it, by its own pid.
"""
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.live import REPO, LiveServer, free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet, whatever the reason
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidate = PG_BIN / name
    if candidate.exists():
        return str(candidate)
    raise RuntimeError(f"{name} not found: install PostgreSQL server binaries")


class Postgres:
    """A throwaway cluster (initdb into ``folder``), trust auth, on 127.0.0.1:``port``.

    initdb refuses to run as root, so as root the cluster belongs to the ``postgres`` user.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_port()
        self.log = folder / "postgres.log"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/reko"
        self._as = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        result = subprocess.run([*self._as, *command], capture_output=True, text=True,
                                timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}{result.stdout}")

    def init(self) -> "Postgres":
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._as:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            os.chmod(self.folder.parent, 0o755)  # mkdtemp makes it private to root
        self._run(_pg_tool("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        self.start()
        self._run(_pg_tool("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                  "postgres", "reko")
        return self

    def start(self) -> None:
        self._run(_pg_tool("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                  "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 "
                        f"-k {self.folder} -c max_connections=100", "start")

    def stop(self, mode: str = "fast") -> None:
        """``immediate`` is a crash (recovery from the WAL on the next start)."""
        self._run(_pg_tool("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop("fast")
        except RuntimeError:
            pass


class Redis:
    """A redis-server with no persistence (a cache: a restart empties it)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                   or True, 10, "redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def worker_pids(server: LiveServer) -> list[int]:
    """The gunicorn workers of ``server`` (children of its master process)."""
    if server.process is None:
        return []
    result = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server.process.pid)],
                            capture_output=True, text=True)
    return [int(p) for p in result.stdout.split()]


def memory_kib(pid: int) -> dict[str, int]:
    """Resident and proportional set size: PSS shares the mapped index file fairly."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                values[key.lower()] = int(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return values


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True,
                   capture_output=True, timeout=900)
