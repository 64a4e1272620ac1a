"""Faults under load: a private deployment (its own PostgreSQL and Redis on free loopback
ports, gunicorn with 4 gthread workers of 8 threads, the fake MAL) under a mixed load,
while faults come in turn: a killed worker, Redis restarted, PostgreSQL restarted (a
crash: immediate stop), MAL failing (5xx, 429, timeouts) and slow, and at the end Redis
down for good.

For each fault: requests sent, errors by kind, the time to recover after the fault
ends, and the MAL request budget. At the end: that no user or entry stored before the
run was lost or changed, and that each never-seen user served a 200 was stored whole.

    .venv/bin/python -m reliability.faults            # about 8 minutes
    .venv/bin/python -m reliability.faults --soak 1800  # 30 minutes of load, no faults

Bounded: every phase has a fixed length, the load stops after ``--max-requests``, and
every process started here is stopped here. Needs initdb/pg_ctl (PostgreSQL 15 server
binaries) and redis-server; as root, the cluster runs as the ``postgres`` user.
"""
import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

from reliability import integrity
from reliability.load import Load, Sample, burst_from_one_client, busiest_window, classify
from reliability.stack import Postgres, Redis, manage, memory_kib, worker_pids
from tests.live import LiveServer, production_env
from tests.mal.fake_mal import FakeMal, anime_json, list_item

MAL_RATE = 2.5  # the deployment's MAL budget, requests a second (the default)
RECOVERY_STREAK = 10  # answers in a row without an error that count as recovered


@dataclass
class PhaseResult:
    name: str
    fault: str
    fault_seconds: float
    requests: int = 0
    requests_during_fault: int = 0
    errors: dict = field(default_factory=dict)  # outcome -> count (status >= 500 or no answer)
    unclean: dict = field(default_factory=dict)  # answers not in the contract's shape
    recovery_seconds: float | None = None  # first success streak, from the fault's end
    last_error_after_fault_end: float | None = None
    latency_ms: dict = field(default_factory=dict)
    mal_requests: int = 0
    mal_max_per_second: int = 0
    mal_max_per_10_seconds: int = 0
    probes: dict = field(default_factory=dict)


def is_error(sample: Sample) -> bool:
    return sample.status == 0 or sample.status >= 500 or not sample.clean


def percentiles(samples: list[Sample]) -> dict:
    latencies = sorted(s.latency * 1000 for s in samples if s.status)
    if not latencies:
        return {}
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)
    return {"p50": pick(0.50), "p99": pick(0.99), "max": round(latencies[-1], 1)}


def recovery(samples: list[Sample], fault_end: float) -> tuple[float | None, float | None]:
    """After the fault's end: when the first ``RECOVERY_STREAK`` answers in a row without
    an error began (requests in the order sent), and when the last failed request was
    sent (None: none failed), both in seconds from the fault's end."""
    after = sorted((s for s in samples if s.sent >= fault_end), key=lambda s: s.sent)
    streak_start, streak, recovered = None, 0, None
    for sample in after:
        if is_error(sample):
            streak = 0
            continue
        streak_start = streak_start if streak else sample.sent
        streak += 1
        if streak >= RECOVERY_STREAK:
            recovered = round(streak_start - fault_end, 2)
            break
    failed = [s.sent for s in after if is_error(s)]
    return recovered, (round(max(failed) - fault_end, 2) if failed else None)


def mal_windows(fake: FakeMal, start: float, end: float) -> tuple[int, int, int]:
    """MAL requests between ``start`` and ``end``, and the most in 1 s and in 10 s."""
    with fake.lock:
        times = [t for t, _ in fake.log if start <= t < end]
    return len(times), busiest_window(times, 1.0), busiest_window(times, 10.0)


def newcomer_burst(base_url: str, names: list[str], timeout: float) -> dict[str, int]:
    """Never-seen users asked for all at once: the MAL budget under a burst."""
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def ask(name):
        try:
            response = requests.get(f"{base_url}/{name}/similar", timeout=timeout,
                                    headers={"X-Forwarded-For": f"10.2.0.{len(name)}"})
            outcome, _ = classify(response)
            key = str(response.status_code) if outcome == "ok" \
                else f"{response.status_code} {outcome}"
        except Exception as error:  # noqa: BLE001 - recorded, not raised
            key = type(error).__name__
        with lock:
            outcomes[key] = outcomes.get(key, 0) + 1

    threads = [threading.Thread(target=ask, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 5)
    return outcomes


def fake_lists(fake: FakeMal, names: list[str], seed: int) -> None:
    rng = random.Random(seed)
    for name in names:
        ids = rng.sample(range(1, 40_000), rng.randint(40, 300))
        fake.add_user(name, [
            list_item(anime_json(i, genres=rng.sample([1, 2, 4, 8, 10, 22, 24, 37], 2),
                                 start_date=str(rng.randint(1985, 2024))),
                      score=rng.randint(0, 10), status=rng.choice(["completed", "watching"]))
            for i in ids])


class Run:
    def __init__(self, args):
        self.args = args
        self.folder = Path(tempfile.mkdtemp(prefix="reko-faults-"))
        self.pg = Postgres(self.folder / "pg")
        self.redis = Redis(self.folder)
        self.fake = FakeMal().start()
        self.newcomers = [f"newcomer_{n:04d}" for n in range(1, 2001)]
        self.burst_names = [f"burst_{n:03d}" for n in range(1, 61)]
        fake_lists(self.fake, self.newcomers + self.burst_names, seed=11)
        self.env = production_env(
            self.pg.url, REDIS_URL=self.redis.url, MAL_CLIENT_ID=self.fake.client_id,
            MAL_API_URL=self.fake.url, MAL_REQUESTS_PER_SECOND=str(MAL_RATE),
            TRUSTED_PROXY_COUNT="1", INDEX_DIR=str(self.folder / "index"))
        # As the Procfile runs it (gunicorn.conf.py): gthread workers of 8 threads.
        self.gunicorn = LiveServer(self.env, self.folder / "gunicorn.log",
                                   workers=args.workers, threads=args.threads_per_worker)
        self.results: list[PhaseResult] = []
        self.windows: list[tuple] = []  # (name, fault, start, fault end, end, probes)
        self.samples: list[Sample] = []

    # --- set-up -----------------------------------------------------------------------

    def start(self) -> None:
        log(f"folder {self.folder}")
        self.pg.init()
        self.redis.start()
        log(f"postgres :{self.pg.port}, redis :{self.redis.port}, fake MAL {self.fake.url}")
        manage(self.env, "migrate", "--noinput")
        manage(self.env, "load_demo")
        self.gunicorn.start(timeout=120)
        log(f"gunicorn {self.gunicorn.url}, workers {worker_pids(self.gunicorn)}")

    def stop(self) -> None:
        self.gunicorn.stop()
        self.redis.stop()
        self.pg.destroy()
        self.fake.stop()
        if not self.args.keep:
            shutil.rmtree(self.folder, ignore_errors=True)

    def load(self) -> Load:
        return Load(self.gunicorn.url, threads=self.args.threads, rate=self.args.rate,
                    new_user_rate=self.args.new_user_rate, new_users=self.newcomers,
                    max_requests=self.args.max_requests, timeout=self.args.client_timeout)

    # --- phases -----------------------------------------------------------------------

    def phase(self, name: str, fault: str, begin=None, end=None,
              fault_seconds: float = 0.0, after_seconds: float | None = None,
              probes=None) -> None:
        """Run one fault; its figures are worked out once the load has stopped, so that
        answers still in flight at the phase's end are counted too."""
        after_seconds = self.args.after_seconds if after_seconds is None else after_seconds
        log(f"phase {name}: {fault}")
        started = time.time()
        if begin:
            begin()
        probe_results = probes() if probes else {}
        time.sleep(max(0.0, started + fault_seconds - time.time()))
        if end:
            end()
        fault_end = time.time()
        time.sleep(after_seconds)
        self.windows.append((name, fault, started, fault_end, time.time(), probe_results))

    def summarise(self, samples: list[Sample]) -> None:
        """A request belongs to the phase in which its answer came (or its error)."""
        for name, fault, started, fault_end, finished, probes in self.windows:
            mine = [s for s in samples if started <= s.sent + s.latency < finished]
            result = PhaseResult(name=name, fault=fault,
                                 fault_seconds=round(fault_end - started, 1),
                                 requests=len(mine), probes=probes)
            result.requests_during_fault = sum(1 for s in mine if s.sent < fault_end)
            for sample in mine:
                if is_error(sample):
                    key = f"{sample.status} {sample.outcome}" if sample.status \
                        else sample.outcome
                    result.errors[key] = result.errors.get(key, 0) + 1
                if not sample.clean and sample.status:
                    result.unclean[sample.outcome] = result.unclean.get(sample.outcome, 0) + 1
            result.recovery_seconds, result.last_error_after_fault_end = recovery(
                mine, fault_end)
            result.latency_ms = percentiles(mine)
            (result.mal_requests, result.mal_max_per_second,
             result.mal_max_per_10_seconds) = mal_windows(self.fake, started, finished)
            log(f"{name}: {result.requests} requests, errors {result.errors}, recovery "
                f"+{result.recovery_seconds} s, last error +{result.last_error_after_fault_end}"
                f" s, MAL max {result.mal_max_per_second}/s")
            self.results.append(result)

    def kill_a_worker(self) -> None:
        victim = worker_pids(self.gunicorn)[0]
        log(f"  SIGKILL worker {victim}")
        os.kill(victim, signal.SIGKILL)

    def mal_fails(self, status: int, retry_after: int | None = None):
        return lambda: self.fake.fail("/v2/users", status, retry_after=retry_after)

    def mal_slow(self, seconds: float):
        def begin():
            # A new dict, not an update: the fake's handler threads iterate the old one.
            self.fake.slow = {"/v2/users": seconds}
        return begin

    def mal_healthy(self) -> None:
        self.fake.clear_failures()
        self.fake.slow = {}

    def burst_probe(self, label: str, count: int = 12):
        def probe():
            names, self.burst_names = self.burst_names[:count], self.burst_names[count:]
            before = time.time()
            outcomes = newcomer_burst(self.gunicorn.url, names, self.args.client_timeout)
            total, per_second, _ = mal_windows(self.fake, before, time.time() + 1)
            limited = burst_from_one_client(self.gunicorn.url, 200, self.args.client_timeout)
            return {f"{label}: {count} never-seen users at once": outcomes,
                    f"{label}: MAL requests / busiest second": f"{total} / {per_second}",
                    f"{label}: 200 requests from one client, 8 at a time": limited}
        return probe

    def faults(self) -> dict:
        before = integrity.snapshot(self.pg.url)
        log(f"stored before: {before['users']} users, {before['entries']} entries")
        load = self.load().start()
        fault, mal_fault = self.args.fault_seconds, self.args.mal_fault_seconds
        try:
            self.phase("baseline", "none", fault_seconds=0,
                       after_seconds=self.args.baseline_seconds,
                       probes=self.burst_probe("Redis up"))
            self.phase("worker killed", "SIGKILL to one of the gunicorn workers",
                       begin=self.kill_a_worker)
            self.phase("Redis restarted", f"redis-server stopped {fault:.0f} s, then "
                       "started empty", begin=self.redis.stop, end=self.redis.start,
                       fault_seconds=fault)
            self.phase("PostgreSQL restarted", f"pg_ctl stop -m immediate (a crash), "
                       f"{fault:.0f} s down, then started", begin=lambda: self.pg.stop("immediate"),
                       end=self.pg.start, fault_seconds=fault)
            self.phase("MAL 5xx", "every list request answers 503",
                       begin=self.mal_fails(503), end=self.mal_healthy, fault_seconds=mal_fault)
            self.phase("MAL 429", "every list request answers 429, Retry-After: 1",
                       begin=self.mal_fails(429, retry_after=1), end=self.mal_healthy,
                       fault_seconds=mal_fault)
            self.phase("MAL timeouts", "list requests hang 25 s (read timeout 20 s)",
                       begin=self.mal_slow(25), end=self.mal_healthy, fault_seconds=mal_fault)
            self.phase("MAL slow", "list requests take 3 s", begin=self.mal_slow(3),
                       end=self.mal_healthy, fault_seconds=mal_fault)
            self.phase("Redis down for good", "redis-server stopped, not restarted",
                       begin=self.redis.stop, fault_seconds=self.args.redis_down_seconds,
                       after_seconds=0, probes=self.burst_probe("Redis down"))
        finally:
            load.stop()
            self.samples = load.samples
        self.summarise(load.samples)
        after = integrity.snapshot(self.pg.url, usernames=before["usernames"])
        fetched = integrity.entry_counts(self.pg.url, load.fetched_ok)
        whole = {name for name in load.fetched_ok
                 if fetched.get(name) == len(self.fake.lists[name])}
        return {
            "requests": len(load.samples),
            "before": {k: v for k, v in before.items() if k != "usernames"},
            "after": {k: v for k, v in after.items() if k != "usernames"},
            "lost_users": len(before["usernames"] - after["usernames"]),
            "unchanged": all(before[k] == after[k] for k in
                             ("users", "entries", "users_sha256", "entries_sha256")),
            "new_users_served": len(load.fetched_ok),
            "new_users_stored_whole": len(whole),
        }

    def soak(self) -> dict:
        load = self.load().start()
        started, series = time.time(), []
        try:
            while time.time() - started < self.args.soak and not load.stopped:
                time.sleep(min(self.args.sample_seconds,
                               self.args.soak - (time.time() - started)))
                now = time.time()
                window = load.between(now - self.args.sample_seconds, now)
                series.append({
                    "minute": round((now - started) / 60, 1),
                    "load_average": os.getloadavg()[0],  # the machine's, others' work included
                    "requests": len(window),
                    "errors": sum(is_error(s) for s in window),
                    **percentiles(window),
                    "workers_kib": {pid: memory_kib(pid) for pid in worker_pids(self.gunicorn)},
                })
                log(f"  {series[-1]['minute']} min: {len(window)} requests, "
                    f"p50 {series[-1].get('p50')} ms, p99 {series[-1].get('p99')} ms, "
                    f"rss {[m.get('rss') for m in series[-1]['workers_kib'].values()]}")
        finally:
            load.stop()
            self.samples = load.samples
        errors: dict[str, int] = {}
        for sample in load.samples:
            if is_error(sample):
                key = f"{sample.status} {sample.outcome}"
                errors[key] = errors.get(key, 0) + 1
        return {"requests": len(load.samples), "errors": errors, "series": series}


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


def markdown(results: list[PhaseResult], summary: dict) -> str:
    lines = ["| phase | fault | requests (sent during the fault) | errors: status outcome × count "
             "| answers not in the contract's shape | first 10 good answers in a row, after "
             "the fault's end | last failed request, after the fault's end | latency p50 / "
             "p99 | MAL requests, busiest 1 s / 10 s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        errors = ", ".join(f"{k} × {v}" for k, v in sorted(r.errors.items())) or "none"
        unclean = ", ".join(f"{k} × {v}" for k, v in r.unclean.items()) or "none"
        ongoing = r.name == "Redis down for good"
        recovered = "n/a (not ended)" if ongoing else (
            "not within the phase" if r.recovery_seconds is None else f"+{r.recovery_seconds} s")
        last = "n/a (not ended)" if ongoing else (
            "none" if r.last_error_after_fault_end is None
            else f"+{r.last_error_after_fault_end} s")
        lines.append(
            f"| {r.name} | {r.fault} | {r.requests} ({r.requests_during_fault}) | {errors} "
            f"| {unclean} | {recovered} | {last} | {r.latency_ms.get('p50')} / "
            f"{r.latency_ms.get('p99')} ms | {r.mal_requests}, {r.mal_max_per_second} / "
            f"{r.mal_max_per_10_seconds} |")
    lines.append("")
    for r in results:
        for key, value in r.probes.items():
            lines.append(f"- {key}: {value}")
    lines.append("")
    lines.append(f"- stored before: {summary['before']['users']} users, "
                 f"{summary['before']['entries']} entries; after, the same users: "
                 f"{summary['after']['users']} users, {summary['after']['entries']} entries; "
                 f"lost users: {summary['lost_users']}; hashes and entries unchanged: "
                 f"{summary['unchanged']}")
    lines.append(f"- never-seen users served a 200: {summary['new_users_served']}, stored "
                 f"whole (entry count = their MAL list): {summary['new_users_stored_whole']}")
    return "\n".join(lines)


def soak_markdown(soak: dict) -> str:
    """One row a sample: load, latency and each worker's memory (MiB, RSS / PSS)."""
    lines = ["| minute | machine load | requests | errors | p50 ms | p99 ms | workers' RSS MiB "
             "| workers' PSS MiB |", "|---|---|---|---|---|---|---|---|"]
    for row in soak["series"]:
        memory = list(row["workers_kib"].values())
        rss = " ".join(f"{m.get('rss', 0) / 1024:.0f}" for m in memory)
        pss = " ".join(f"{m.get('pss', 0) / 1024:.0f}" for m in memory)
        lines.append(f"| {row['minute']} | {row.get('load_average', 0):.1f} | {row['requests']} | "
                     f"{row['errors']} | "
                     f"{row.get('p50')} | {row.get('p99')} | {rss} | {pss} |")
    errors = ", ".join(f"{k} × {v}" for k, v in soak["errors"].items()) or "none"
    lines.append(f"\n{soak['requests']} requests in all; errors: {errors}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads-per-worker", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8, help="load clients")
    parser.add_argument("--rate", type=float, default=15.0, help="known-user requests/s")
    parser.add_argument("--new-user-rate", type=float, default=0.2,
                        help="never-seen users asked for, per second")
    parser.add_argument("--baseline-seconds", type=float, default=30.0)
    parser.add_argument("--fault-seconds", type=float, default=10.0)
    parser.add_argument("--mal-fault-seconds", type=float, default=20.0,
                        help="longer than the MAL client's retries (1 + 2 + 4 s), so that "
                             "some requests run out of them")
    parser.add_argument("--after-seconds", type=float, default=25.0)
    parser.add_argument("--redis-down-seconds", type=float, default=40.0)
    parser.add_argument("--client-timeout", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--soak", type=float, default=0.0,
                        help="seconds of load without faults instead of the fault run")
    parser.add_argument("--sample-seconds", type=float, default=60.0)
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (logs, database) for a post-mortem")
    parser.add_argument("--out", type=Path, default=Path("var/reliability"))
    parser.add_argument("--render", type=Path,
                        help="print the tables of an earlier run's JSON file and exit")
    args = parser.parse_args(argv)
    if args.render:
        report = json.loads(args.render.read_text())
        print(soak_markdown(report["soak"]) if "soak" in report else
              markdown([PhaseResult(**r) for r in report["phases"]], report["summary"]))
        return 0
    # A plain `kill` still stops every process this run started (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    run = Run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y%m%dT%H%M%S")
    try:
        run.start()
        if args.soak:
            report = {"soak": run.soak()}
            text = soak_markdown(report["soak"])
        else:
            summary = run.faults()
            report = {"phases": [asdict(r) for r in run.results], "summary": summary}
            text = markdown(run.results, summary)
    finally:
        run.stop()
    report["args"] = {k: str(v) for k, v in vars(args).items()}
    path = args.out / f"{'soak' if args.soak else 'faults'}-{started}.json"
    path.write_text(json.dumps(report, indent=1, default=str))
    with open(path.with_suffix(".samples.csv"), "w") as samples:
        samples.write("kind,sent,latency,status,outcome,clean\n")
        for s in run.samples:
            samples.write(f"{s.kind},{s.sent:.3f},{s.latency:.4f},{s.status},{s.outcome},"
                          f"{int(s.clean)}\n")
    print(text)
    print(f"\nfull results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
