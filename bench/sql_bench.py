"""The original Reko's way, as SQL on the same data: PostgreSQL and MariaDB.

The original ranked similar users with a scan of the whole users table on every request
(``ORDER BY BIT_COUNT(h ^ hash) + BIT_COUNT((h & M) ^ (hash & M))``) and aggregated
recommendations with a ``GROUP BY`` over the neighbours' entries. Each operation here
returns what the engine's does (ids, scores, contributors), ordered by the contract.

*fresh*: the neighbours come from the scan inside the statement; *stored*: the batch's
neighbour ids are given (the original had no snapshot, so this is a kinder baseline).
"""
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench.engine_bench import OPERATIONS

MASK = 0xE546A06043001091 - (1 << 64)  # as a signed BIGINT
SECONDS_PER_YEAR = 365.25 * 24 * 3600
WATCHED = ("e.score > 0 AND (e.status = 'completed' OR "
           "(e.status = 'watching' AND e.episodes_watched > 0))")


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


class Dialect:
    """The few spellings that differ between PostgreSQL and MariaDB."""

    def __init__(self, vendor: str):
        self.vendor = vendor

    def distance(self, a: str, b: str) -> str:
        if self.vendor == "postgresql":
            return (f"(bit_count(({a} # {b})::bit(64)) + "
                    f"bit_count((({a} & {MASK}) # ({b} & {MASK}))::bit(64)))")
        return f"(BIT_COUNT({a} ^ {b}) + BIT_COUNT(({a} & {MASK}) ^ ({b} & {MASK})))"

    def years(self, column: str, now: int) -> str:
        if self.vendor == "postgresql":
            return f"((EXTRACT(EPOCH FROM {column}) * -1 + {now}) / {SECONDS_PER_YEAR})"
        return f"(({now} - UNIX_TIMESTAMP({column})) / {SECONDS_PER_YEAR})"

    def concat_users(self) -> str:
        if self.vendor == "postgresql":
            return "string_agg(e.user_id::text || ':' || e.score::text, ',')"
        return "GROUP_CONCAT(CONCAT(e.user_id, ':', e.score))"

    def random(self) -> str:
        return "RANDOM()" if self.vendor == "postgresql" else "RAND()"


def _neighbours_sql(d: Dialect, requester: int, target: int, offset: int) -> str:
    return (f"SELECT u.id FROM users_maluser u WHERE u.hash IS NOT NULL AND u.id <> {requester} "
            f"ORDER BY {d.distance('u.hash', str(target))}, u.username LIMIT 32 OFFSET {offset}")


def similar_sql(d: Dialect, requester: int, target: int, page: int) -> str:
    return (f"SELECT u.username, u.hash, 100 - FLOOR({d.distance('u.hash', str(target))} * 100 / 83) "
            f"FROM users_maluser u WHERE u.hash IS NOT NULL AND u.id <> {requester} "
            f"ORDER BY {d.distance('u.hash', str(target))}, u.username "
            f"LIMIT 32 OFFSET {(page - 1) * 32}")


def compare_sql(d: Dialect, requester: int, other: int) -> str:
    return (f"SELECT b.username, b.hash, 100 - FLOOR({d.distance('a.hash', 'b.hash')} * 100 / 83) "
            f"FROM users_maluser a, users_maluser b WHERE a.id = {requester} AND b.id = {other}")


def recommendations_sql(d: Dialect, requester: int, target: int, batch: int, page: int,
                        now: int, members=None, random_pick: bool = False) -> str:
    if members is None:
        # MariaDB refuses LIMIT inside IN (...): join a derived table instead (both accept it).
        source = f"({_neighbours_sql(d, requester, target, (batch - 1) * 32)}) nb"
    else:
        source = "(" + " UNION ALL ".join(f"SELECT {int(m)} AS id" for m in members) + ") nb"
    key = (f"SUM(e.score) / (COUNT(*) + 1.0) - FLOOR(AVG({d.years('e.updated_at', now)}) / 2)")
    order = (f"LN({d.random()}) / (a.mean * a.mean) DESC LIMIT 32" if random_pick else
             f"k DESC, a.mean DESC, e.anime_id LIMIT 16 OFFSET {(page - 1) * 16}")
    return (
        f"SELECT e.anime_id, {key} AS k, FLOOR(SUM(e.score) / COUNT(*)) AS score, "
        f"{d.concat_users()} AS users FROM {source} "
        "JOIN users_listentry e ON e.user_id = nb.id "
        "JOIN recommendations_anime a ON a.id = e.anime_id "
        f"WHERE {WATCHED} AND a.mean IS NOT NULL AND a.parent_id IS NULL "
        f"AND e.anime_id NOT IN (SELECT anime_id FROM users_listentry WHERE user_id = {requester}) "
        f"GROUP BY e.anime_id, a.mean ORDER BY {order}"
    )


def from_user_sql(d: Dialect, requester: int, other: int, page: int, now: int) -> str:
    return (
        f"SELECT e.anime_id, e.score FROM users_listentry e "
        "JOIN recommendations_anime a ON a.id = e.anime_id "
        f"WHERE e.user_id = {other} AND {WATCHED} AND a.mean IS NOT NULL AND a.parent_id IS NULL "
        f"AND e.anime_id NOT IN (SELECT anime_id FROM users_listentry WHERE user_id = {requester}) "
        f"ORDER BY e.score - FLOOR({d.years('e.updated_at', now)} / 2) DESC, a.mean DESC, "
        f"e.anime_id LIMIT 16 OFFSET {(page - 1) * 16}"
    )


def statement(d: Dialect, kind: str, args: dict, requester, stored, now: int) -> str:
    target = _signed(requester.hash)
    if kind == "similar":
        return similar_sql(d, requester.id, target, args["page"])
    if kind == "compare":
        return compare_sql(d, requester.id, requester.other_id)
    if kind == "from_user":
        return from_user_sql(d, requester.id, requester.other_id, args["page"], now)
    members = None
    if stored is not None:
        ids = stored[0]
        members = ids[(args["batch"] - 1) * 32:args["batch"] * 32].tolist()
    return recommendations_sql(d, requester.id, target, args["batch"], args.get("page", 1), now,
                               members=members, random_pick=kind == "random")


def measure(cursor, vendor: str, requesters, stored: dict, *, now: int,
            samples: int) -> list[dict]:
    """p50/p99 (ms) of every operation done in SQL, fresh and stored."""
    d = Dialect(vendor)
    chosen = requesters[:samples]
    results = []
    for name, kind, args in OPERATIONS:
        row = {"operation": name}
        modes = ("fresh", "stored") if kind in ("recommendations", "random") else ("fresh",)
        for mode in modes:
            times = []
            for r in chosen:
                sql = statement(d, kind, args, r, stored[r.id] if mode == "stored" else None, now)
                t0 = time.perf_counter_ns()
                cursor.execute(sql)
                cursor.fetchall()
                times.append(time.perf_counter_ns() - t0)
            ms = np.array(times) / 1e6
            row[f"{mode}_p50"] = float(np.percentile(ms, 50))
            row[f"{mode}_p99"] = float(np.percentile(ms, 99))
            row[f"{mode}_n"] = len(times)
        if "stored_p50" not in row:  # no neighbour list involved
            row.update(stored_p50=row["fresh_p50"], stored_p99=row["fresh_p99"],
                       stored_n=row["fresh_n"])
        results.append(row)
    return results


def agreement(cursor, vendor: str, requesters, stored: dict) -> dict:
    """Does the SQL give the engine's answers? Similar page 1 ids, for every requester."""
    d = Dialect(vendor)
    same = 0
    for r in requesters:
        cursor.execute(similar_sql(d, r.id, _signed(r.hash), 1).replace(
            "SELECT u.username,", "SELECT u.id, u.username,"))
        ids = [row[0] for row in cursor.fetchall()]
        same += ids == stored[r.id][0][:32].tolist()
    return {"similar_page_1_identical": same, "checked": len(requesters)}


# --- MariaDB: the same rows, copied from PostgreSQL ------------------------------------

MARIADB_TABLES = [
    "DROP TABLE IF EXISTS users_listentry, users_maluser, recommendations_anime",
    "CREATE TABLE users_maluser (id BIGINT PRIMARY KEY, username VARCHAR(16) CHARACTER SET "
    "ascii COLLATE ascii_bin NOT NULL UNIQUE, hash BIGINT NULL) ENGINE=InnoDB",
    "CREATE TABLE recommendations_anime (id INT PRIMARY KEY, mean DOUBLE NULL, "
    "parent_id INT NULL) ENGINE=InnoDB",
    "CREATE TABLE users_listentry (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, "
    "anime_id INT NOT NULL, status VARCHAR(16) NOT NULL, score SMALLINT NOT NULL, "
    "episodes_watched INT NOT NULL, updated_at DATETIME NOT NULL) ENGINE=InnoDB",
]
MARIADB_INDEXES = ("ALTER TABLE users_listentry ADD UNIQUE KEY one_entry (user_id, anime_id), "
                   "ADD KEY entry_anime (anime_id)")
EXPORTS = {
    "users_maluser": "SELECT id, username, hash FROM users_maluser",
    "recommendations_anime": "SELECT id, mean, parent_id FROM recommendations_anime",
    "users_listentry": ("SELECT id, user_id, anime_id, status, score, episodes_watched, "
                        "updated_at::timestamp FROM users_listentry"),  # already in id order
}


MARIADB_BUFFER_POOL = 3 * 2**30


LOAD_PARALLEL = 2  # entry loads at once (LOAD DATA is one thread per statement)


def _pipe_table(pg_dsn: str, mysql: dict, table: str, query: str, fifo: Path, env) -> None:
    """psql \\copy into a named pipe that the mysql client's LOAD DATA reads."""
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    try:
        export = subprocess.Popen(["psql", pg_dsn, "-qc", f"\\copy ({query}) TO '{fifo}'"],
                                  env=env)
        load = subprocess.run(
            ["mysql", "--local-infile=1", "-h", mysql["host"], "-P", str(mysql["port"]),
             "-u", mysql["user"], *([f"-p{mysql['password']}"] if mysql["password"] else []),
             mysql["database"], "-e",
             "SET SESSION unique_checks = 0, foreign_key_checks = 0; "
             f"LOAD DATA LOCAL INFILE '{fifo}' INTO TABLE {table}"],
            capture_output=True, text=True)
        if export.wait() != 0 or load.returncode != 0:
            raise RuntimeError(f"copying {table} to MariaDB failed: {load.stderr.strip()}")
    finally:
        fifo.unlink(missing_ok=True)


def load_mariadb(*, pg_dsn: str, mysql: dict, workdir: Path) -> float:
    """Copy the three tables from PostgreSQL (psql \\copy) into MariaDB (LOAD DATA),
    through named pipes, the entries in two parallel streams.

    The InnoDB buffer pool is raised to hold the data (``MARIADB_BUFFER_POOL``, as one
    would size it in production; the default 128 MB would make the baseline read from
    disk), and the log is flushed once a second during the load only.
    """
    import pymysql
    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PGOPTIONS": "-c timezone=UTC"}
    server = {k: v for k, v in mysql.items() if k != "database"}
    conn = pymysql.connect(**server, local_infile=True, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {mysql['database']}")
            cur.execute(f"USE {mysql['database']}")
            cur.execute(f"SET GLOBAL innodb_buffer_pool_size = {MARIADB_BUFFER_POOL}")
            cur.execute("SET GLOBAL innodb_flush_log_at_trx_commit = 2")
            cur.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
            for ddl in MARIADB_TABLES:
                cur.execute(ddl)
            jobs = []
            for table, query in EXPORTS.items():
                parts = LOAD_PARALLEL if table == "users_listentry" else 1
                for part in range(parts):
                    where = f" WHERE id % {parts} = {part}" if parts > 1 else ""
                    jobs.append((table, query + where, workdir / f"{table}-{part}.fifo"))
            with ThreadPoolExecutor(len(jobs)) as pool:
                for future in [pool.submit(_pipe_table, pg_dsn, mysql, *job, env) for job in jobs]:
                    future.result()
            print(f"  MariaDB rows loaded: {time.perf_counter() - started:.1f}s", file=sys.stderr)
            cur.execute(MARIADB_INDEXES)
            cur.execute("SET GLOBAL innodb_flush_log_at_trx_commit = 1")
            for table in EXPORTS:
                cur.execute(f"ANALYZE TABLE {table}")
                cur.fetchall()
    finally:
        conn.close()
    return time.perf_counter() - started
