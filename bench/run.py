"""The whole benchmark in one run; writes BENCHMARKS.md and bench/benchmarks.png.

    .venv/bin/python -m bench.run --users 10000,100000 --engine-users 1000000

For each database scale: a fresh PostgreSQL database ``bench_reko_<users>`` (migrated,
then filled by ``bench.generate``), then ``bench.measure`` (index build, engine latency,
the original's SQL on PostgreSQL and on MariaDB database ``bench``), then the HTTP run
(``bench.http_bench``). Then the engine alone at ``--engine-users`` (no database). Then
the trained ranking (``bench.model_bench``) at the largest database scale's users: its
serving cost with a model of ``--model-anime`` anime, and a real training at that many
anime. Each step runs in its own process; raw results go to bench/results/ (git-ignored).
"""
import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from bench.model_bench import TRAIN_USERS

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
# The production settings (DEBUG off) want a secret key; no request leaves here, and a log
# line per request would be measured too.
BENCH_SETTINGS = {"SECRET_KEY": "bench-only-not-secret", "HTTPS": "0", "LOG_LEVEL": "WARNING"}


def _python(module: str, *args: str, env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env,
                          check=True, stdout=subprocess.PIPE, text=True)
    return done.stdout


def _recreate_database(pg_base: str, name: str) -> None:
    import psycopg
    with psycopg.connect(f"{pg_base}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def _known_users(database_url: str, count: int, seed: int) -> list[str]:
    import numpy as np
    import psycopg
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT username FROM users_maluser WHERE hash IS NOT NULL ORDER BY id")]
    rng = np.random.default_rng(seed)
    return [str(n) for n in rng.choice(names, size=min(count, len(names)), replace=False)]


def run_scale(users: int, args, log) -> dict:
    name = f"bench_reko_{users}"
    url = f"{args.pg}/{name}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "reko.settings",
           **BENCH_SETTINGS}
    env.pop("INDEX_DIR", None)
    out = {"users": users, "database": name}
    generated = RESULTS / f"generate-{users}.json"
    if args.reuse_databases and generated.exists():
        log(f"[{users:,}] database {name}: reused as generated before")
        out["generate"] = json.loads(generated.read_text())
    else:
        log(f"[{users:,}] database {name}: create and migrate")
        _recreate_database(args.pg, name)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                       cwd=ROOT, env=env, check=True)
        log(f"[{users:,}] generate")
        started = time.perf_counter()
        summary = _python("bench.generate", "--users", str(users), "--seed", str(args.seed),
                          env=env)
        out["generate"] = json.loads(summary.strip().splitlines()[-1])
        out["generate"]["wall_s"] = time.perf_counter() - started
        generated.write_text(json.dumps(out["generate"]))
        log(f"[{users:,}] generated in {out['generate']['wall_s']:.0f}s")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                   env=env, check=True)
    log(f"[{users:,}] measure engine and SQL")
    measure_file = RESULTS / f"measure-{users}.json"
    extra = ["--no-mariadb"] if args.no_mariadb else []
    request_env = {**env, "DEBUG": "0", "HTTPS": "0", "RATELIMIT_ENABLE": "0",
                   "ALLOWED_HOSTS": "testserver",
                   "SECRET_KEY": "bench-only-not-secret"}
    _python("bench.measure", "--users", str(users), "--seed", str(args.seed),
            "--samples", str(args.samples), "--sql-samples", str(args.sql_samples),
            "--out", str(measure_file), "--request-profile", *extra, env=request_env)
    out["measure"] = json.loads(measure_file.read_text())
    log(f"[{users:,}] HTTP")
    from bench import http_bench
    names = _known_users(url, 2000, args.seed)
    out["http"] = http_bench.run(
        database_url=url, names=names, seed=args.seed, route_seconds=args.route_seconds,
        mixed_seconds=args.mixed_seconds, port=args.port, workdir=RESULTS / "http")
    if args.baseline:
        log(f"[{users:,}] HTTP of the baseline {args.baseline}")
        with _checkout(args.baseline) as folder:
            out["http_baseline"] = http_bench.run(
                database_url=url, names=names, seed=args.seed,
                route_seconds=args.route_seconds, mixed_seconds=args.mixed_seconds,
                port=args.port, workdir=RESULTS / "http-baseline", root=folder)
        out["http_baseline"]["revision"] = args.baseline
    return out


@contextlib.contextmanager
def _checkout(revision: str):
    """The code of ``revision`` in a temporary git worktree (same packages, same database),
    so the same run measures the request path before and after a change."""
    folder = RESULTS / f"baseline-{revision}"
    subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT,
                   capture_output=True)
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), revision], cwd=ROOT,
                   check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT,
                       capture_output=True)


def run_engine_only(users: int, args, log) -> dict:
    log(f"[{users:,}] engine only (no database)")
    out_file = RESULTS / f"measure-{users}-engine.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reko.settings", **BENCH_SETTINGS}
    _python("bench.measure", "--engine-only", "--users", str(users), "--seed", str(args.seed),
            "--samples", str(args.engine_samples), "--out", str(out_file), env=env)
    return {"users": users, "measure": json.loads(out_file.read_text())}


def run_model(users: int, args, log) -> dict:
    training = (f", training on {args.model_train_users:,} users' lists"
                if args.model_train_users else "")
    log(f"[{users:,}] trained ranking: {args.model_anime:,} anime{training}")
    out_file = RESULTS / f"model-{users}.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reko.settings", **BENCH_SETTINGS}
    _python("bench.model_bench", "--users", str(users), "--anime", str(args.model_anime),
            "--train-users", str(args.model_train_users), "--seed", str(args.seed),
            # Relative to its working folder, ROOT: the page shows this command line.
            "--out", str(out_file.relative_to(ROOT)), env=env)
    return json.loads(out_file.read_text())


def machine() -> dict:
    import numpy as np
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from importlib.metadata import PackageNotFoundError, version
    versions = {}
    for key, package in (("django", "Django"), ("rest_framework", "djangorestframework"),
                         ("psycopg", "psycopg"), ("gunicorn", "gunicorn"),
                         ("pymysql", "PyMySQL")):
        try:
            versions[key] = version(package)
        except PackageNotFoundError:
            pass
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem, 1),
            "os": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "wrk": wrk.split(" [")[0].strip(), **versions}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default="10000,100000",
                        help="database scales, comma-separated")
    parser.add_argument("--engine-users", default="1000000",
                        help="engine-only scales (no database), comma-separated; '' for none")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=300, help="requesters timed per scale")
    parser.add_argument("--engine-samples", type=int, default=100)
    parser.add_argument("--sql-samples", type=int, default=15)
    parser.add_argument("--model-anime", type=int, default=20_000,
                        help="anime of the trained ranking's model (served and trained) at "
                             "the largest --users scale; 0 skips the trained ranking")
    parser.add_argument("--model-train-users", type=int, default=TRAIN_USERS,
                        help="users whose lists the trained ranking's real training reads; "
                             "0 skips the training (its serving cost is still measured)")
    parser.add_argument("--route-seconds", type=int, default=8)
    parser.add_argument("--mixed-seconds", type=int, default=20)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432",
                        help="PostgreSQL server URL (databases bench_reko_<users> are made)")
    parser.add_argument("--no-mariadb", action="store_true")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--baseline", default="",
                        help="a git revision whose HTTP leg is measured too, for before/after")
    parser.add_argument("--reuse-databases", action="store_true",
                        help="keep the bench_reko_<users> databases this run generated before "
                             "(same --seed) instead of generating them again")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--plot", default=str(BENCH_DIR / "benchmarks.png"))
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reko.settings")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"{time.perf_counter() - started:7.1f}s {message}", file=sys.stderr, flush=True)

    report = {
        "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(), "load_before": os.getloadavg(), "seed": args.seed,
        "scales": [], "engine_only": [],
    }
    scales = [int(u) for u in args.users.split(",") if u]
    for users in scales:
        report["scales"].append(run_scale(users, args, log))
        (RESULTS / "report.json").write_text(json.dumps(report, indent=1))
    for users in [int(u) for u in args.engine_users.split(",") if u]:
        report["engine_only"].append(run_engine_only(users, args, log))
    if args.model_anime and scales:
        report["model"] = run_model(max(scales), args, log)
    report["load_after"] = os.getloadavg()
    report["wall_s"] = time.perf_counter() - started
    (RESULTS / "report.json").write_text(json.dumps(report, indent=1))
    from bench import report as writer
    writer.write(report, markdown=Path(args.output), plot=Path(args.plot))
    log(f"wrote {args.output} and {args.plot}")


if __name__ == "__main__":
    main()
