"""HTTP: gunicorn with 2 workers on 127.0.0.1, driven by ``wrk`` (bounded in time).

Every route is hit on known users (random users of the population, random pages and
batches), first one route at a time, then all mixed. The index directory starts empty, so
the first worker to start (gunicorn.conf.py builds the index at a worker's start) builds
the index from the database and saves it; the other worker maps the saved file.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
LUA = BENCH_DIR / "wrk_paths.lua"
# gunicorn.conf.py's default WEB_THREADS.
PRODUCTION_THREADS = 8
ROUTES = ("similar", "compare", "recommendations", "user_recommendations", "random")


def paths_for(route: str, names: list[str], rng: np.random.Generator, count: int) -> list[str]:
    out = []
    for _ in range(count):
        user, other = rng.choice(names, size=2, replace=False)
        if route == "similar":
            out.append(f"/{user}/similar?page={rng.integers(1, 41)}")
        elif route == "compare":
            out.append(f"/{user}/compare/{other}")
        elif route == "recommendations":
            out.append(f"/{user}/recommendations?batch={rng.integers(1, 41)}"
                       f"&page={rng.integers(1, 4)}")
        elif route == "user_recommendations":
            out.append(f"/{user}/recommendations/{other}?page={rng.integers(1, 4)}")
        else:
            out.append(f"/{user}/random?batch={rng.integers(1, 41)}")
    return out


def _get(url: str, timeout: float = 120.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _wait_up(base: str, proc, limit: float = 60.0, path: str = "/version") -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            if _get(base + path, timeout=2) == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def _wrk(base: str, paths: list[str], *, seconds: int, connections: int, threads: int,
         workdir: Path) -> dict:
    path_file = workdir / "paths.txt"
    path_file.write_text("\n".join(paths) + "\n")
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
           "-s", str(LUA), base]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True,
                          env={**os.environ, "WRK_PATHS": str(path_file)},
                          timeout=seconds + 60)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1]
    raw = json.loads(line)
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return {
        "requests": raw["requests"], "seconds": raw["duration_us"] / 1e6,
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
        "errors": errors, "non_2xx": raw["status"], "connections": connections,
    }


def _workers_memory(master_pid: int) -> list[dict]:
    import psutil
    out = []
    for child in psutil.Process(master_pid).children():
        info = child.memory_full_info()
        out.append({"pid": child.pid, "rss_mb": info.rss / 2**20, "pss_mb": info.pss / 2**20,
                    "uss_mb": info.uss / 2**20})
    return out


def run(*, database_url: str, names: list[str], seed: int, route_seconds: int,
        mixed_seconds: int, port: int, workdir: Path, workers: int = 2,
        threads: int = 1, root: Path = ROOT) -> dict:
    """Start gunicorn on the code in ``root`` (this checkout, or a baseline's), load it,
    stop it; returns the measurements."""
    workdir.mkdir(parents=True, exist_ok=True)
    index_dir = workdir / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "HTTPS": "0",
           "RATELIMIT_ENABLE": "0",
           "SECRET_KEY": "bench-only-not-secret", "ALLOWED_HOSTS": "127.0.0.1",
           "INDEX_DIR": str(index_dir), "LOG_LEVEL": "WARNING", "DB_CONN_MAX_AGE": "600"}
    env.pop("REDIS_URL", None)
    base = f"http://127.0.0.1:{port}"
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "reko.wsgi",
                "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--timeout", "180",
                "--log-level", "warning"]
    conf = root / "gunicorn.conf.py"
    if conf.exists():
        # Production's own server settings (the Procfile's): its worker class and threads.
        gunicorn += ["--config", str(conf)]
        threads = threads if threads > 1 else PRODUCTION_THREADS
        env["WEB_THREADS"] = str(threads)
    if threads > 1:  # gthread workers: keep-alive connections, a few requests per worker
        gunicorn += ["--worker-class", "gthread", "--threads", str(threads)]
    started = time.perf_counter()
    proc = subprocess.Popen(gunicorn, cwd=root, env=env)
    rng = np.random.default_rng(seed)
    out = {"workers": workers, "threads": threads, "load": "wrk",
           "server": f"gunicorn gthread workers, {threads} threads" if threads > 1 else
           "gunicorn sync workers"}
    try:
        _wait_up(base, proc)
        if (root / "reko" / "probes.py").exists():  # a baseline may have no probes
            _wait_up(base, proc, path="/health/ready")  # a worker has built its index
            out["ready_s"] = time.perf_counter() - started
        out["memory_idle"] = _workers_memory(proc.pid)
        t0 = time.perf_counter()
        status = _get(f"{base}/{names[0]}/similar")
        out["first_request_s"] = time.perf_counter() - t0
        if status != 200:
            raise RuntimeError(f"first request answered {status}")
        # Until both workers have their index (the second maps the saved file) and their
        # anime details (read once per process): one-off costs, reported apart.
        warm = [_get(base + p) for route in ROUTES for p in paths_for(route, names, rng, 12)]
        out["warmup_errors"] = sum(s != 200 for s in warm)
        out["routes"] = {}
        for route in ROUTES:
            paths = paths_for(route, names, rng, 5000)
            # One connection: the latency of a request on its own (no queueing behind
            # another); the mixed run below loads both workers.
            out["routes"][route] = _wrk(base, paths, seconds=route_seconds, connections=1,
                                        threads=1, workdir=workdir)
        mixed = [p for route in ROUTES for p in paths_for(route, names, rng, 4000)]
        out["mixed"] = _wrk(base, mixed, seconds=mixed_seconds, connections=4, threads=2,
                            workdir=workdir)
        out["memory_loaded"] = _workers_memory(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(index_dir, ignore_errors=True)
    return out
