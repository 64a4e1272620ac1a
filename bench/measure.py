"""One scale of the benchmark, in its own process: index build, engine latency, SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_reko_100000 \\
        .venv/bin/python -m bench.measure --users 100000 --out bench/results/100000.json
    .venv/bin/python -m bench.measure --engine-only --users 1000000 --out ...

With ``--engine-only`` the population is generated in memory and the index built from it
(no database). Otherwise the index is built from the configured database, as a worker
does, and the SQL of the original runs on PostgreSQL and (copied there) on MariaDB.
"""
import argparse
import json
import os
import platform
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def _rss_mb() -> float:
    import psutil
    return psutil.Process().memory_info().rss / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _requesters_engine_only(state, lists, sample, rng):
    from bench.engine_bench import Requester
    out = []
    for number in sample.tolist():
        row = state.users.row_of(number + 1)
        other = int(state.users.ids[rng.integers(len(state.users.ids))])
        if row is None or other == number + 1:
            continue
        out.append(Requester(id=number + 1, hash=int(state.users.hashes[row]),
                             anime_ids=lists[number], other_id=other,
                             other_hash=int(state.users.hashes[state.users.row_of(other)])))
    return out


def _requesters_from_db(state, count, rng):
    from bench.engine_bench import Requester
    from users.models import ListEntry
    ids = rng.choice(state.users.ids, size=min(count, len(state.users.ids)), replace=False)
    out = []
    for user_id in ids.tolist():
        other = int(state.users.ids[rng.integers(len(state.users.ids))])
        if other == user_id:
            continue
        anime = np.fromiter(ListEntry.objects.filter(user_id=user_id)
                            .values_list("anime_id", flat=True), dtype=np.int64)
        out.append(Requester(
            id=user_id, hash=int(state.users.hashes[state.users.row_of(user_id)]),
            anime_ids=anime, other_id=other,
            other_hash=int(state.users.hashes[state.users.row_of(other)])))
    return out


def engine_only(args) -> dict:
    import django
    django.setup()  # the models' modules are imported, the database is not used
    from bench import engine_bench, population
    catalog = population.load_catalog()
    rng = np.random.default_rng(args.seed + 100)
    sample = rng.choice(args.users, size=min(args.samples + 20, args.users), replace=False)
    started = time.perf_counter()
    state, lists, build = population.index_state(args.users, args.seed, catalog, sample)
    generate = time.perf_counter() - started - build
    requesters = _requesters_engine_only(state, lists, sample, rng)[:args.samples]
    return {
        "users": args.users, "indexed_users": len(state.users),
        "index_entries": int(state.users.anime_ids.size),
        "index_build_s": build, "index_build_source": "generated arrays (no database)",
        "generate_s": generate,
        "rss_mb": _rss_mb(), "peak_rss_mb": _peak_mb(),
        "engine": engine_bench.measure(state, requesters, now=population.NOW,
                                       seed=args.seed, rounds=args.rounds),
    }


def with_database(args) -> dict:
    import django
    django.setup()
    from django.db import connection

    from bench import engine_bench, population, sql_bench
    from recommendations import live_index, selectors
    from recommendations.engine import index_file

    started = time.perf_counter()
    users = live_index.users_from_db()
    catalog = selectors.index_catalog()
    build = time.perf_counter() - started
    rss_after_build = _rss_mb()
    state = live_index.IndexState(users=users, catalog=catalog, last_change_id=0)
    folder = RESULTS / "index-save-test"
    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    index_file.save(users, folder)
    save_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index_file.load(folder)
    load_s = time.perf_counter() - t0
    shutil.rmtree(folder, ignore_errors=True)

    rng = np.random.default_rng(args.seed + 100)
    requesters = _requesters_from_db(state, args.samples, rng)
    out = {
        "users": args.users, "indexed_users": len(users),
        "index_entries": int(users.anime_ids.size),
        "index_build_s": build, "index_build_source": connection.vendor,
        "index_file_save_s": save_s, "index_file_map_s": load_s,
        "rss_mb": rss_after_build, "peak_rss_mb": _peak_mb(),
        "engine": engine_bench.measure(state, requesters, now=population.NOW,
                                       seed=args.seed, rounds=args.rounds),
    }
    if args.request_profile:
        from bench import request_profile
        from users.models import MalUser
        names = list(MalUser.objects.filter(id__in=[r.id for r in requesters])
                     .values_list("username", flat=True))
        out["request_profile"] = request_profile.measure(names, seed=args.seed)
    stored = {r.id: engine_bench.neighbours(state, r) for r in requesters}
    sql_requesters = requesters[:args.sql_samples]
    if connection.vendor == "postgresql" and not args.no_sql:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            out["postgresql_version"] = cursor.fetchone()[0].split(" on ")[0]
            out["postgresql"] = sql_bench.measure(cursor, "postgresql", sql_requesters, stored,
                                                  now=population.NOW, samples=args.sql_samples)
            out["postgresql_agreement"] = sql_bench.agreement(cursor, "postgresql",
                                                              sql_requesters, stored)
        if not args.no_mariadb:
            out.update(_mariadb(args, sql_requesters, stored, population.NOW))
    return out


def _mariadb(args, requesters, stored, now) -> dict:
    import pymysql
    from django.db import connection

    from bench import sql_bench
    settings = connection.settings_dict
    pg_dsn = (f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/"
              f"{settings['NAME']}")
    mysql = {"host": args.mysql_host, "port": args.mysql_port, "user": args.mysql_user,
             "password": args.mysql_password, "database": args.mysql_database}
    server = {k: v for k, v in mysql.items() if k != "database"}
    with pymysql.connect(**server) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT @@innodb_buffer_pool_size")
        pool_before = cursor.fetchone()[0]
    load_s = sql_bench.load_mariadb(pg_dsn=pg_dsn, mysql=mysql, workdir=RESULTS / "export")
    conn = pymysql.connect(**mysql)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            version = cursor.fetchone()[0]
            results = sql_bench.measure(cursor, "mysql", requesters, stored, now=now,
                                        samples=args.sql_samples)
            agree = sql_bench.agreement(cursor, "mysql", requesters, stored)
            cursor.execute(f"SET GLOBAL innodb_buffer_pool_size = {int(pool_before)}")
    finally:
        conn.close()
    return {"mariadb_version": version, "mariadb_load_s": load_s, "mariadb": results,
            "mariadb_agreement": agree}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=200, help="requesters for the engine")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sql-samples", type=int, default=20)
    parser.add_argument("--engine-only", action="store_true")
    parser.add_argument("--no-sql", action="store_true")
    parser.add_argument("--request-profile", action="store_true",
                        help="time requests in process (needs DEBUG=0, RATELIMIT_ENABLE=0)")
    parser.add_argument("--no-mariadb", action="store_true")
    parser.add_argument("--mysql-host", default="127.0.0.1")
    parser.add_argument("--mysql-port", type=int, default=3306)
    parser.add_argument("--mysql-user", default="root")
    parser.add_argument("--mysql-password", default="")
    parser.add_argument("--mysql-database", default="bench")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reko.settings")
    result = engine_only(args) if args.engine_only else with_database(args)
    result["python"] = platform.python_version()
    result["numpy"] = np.__version__
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
