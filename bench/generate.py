"""Write a synthetic population (``bench.population``) into the configured database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_reko \\
        .venv/bin/python -m bench.generate --users 100000 --seed 1

The catalog is the real demo catalog, loaded with the catalog code the app itself uses.
Users and entries go in by bulk loading: PostgreSQL ``COPY`` (entries in the binary
format, built straight from numpy arrays, with the secondary indexes rebuilt afterwards),
batched ``INSERT``s elsewhere (SQLite). The database must be a dedicated one: users
other than generated ones make the command refuse to run.
"""
import argparse
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

PG_EPOCH = 946_684_800  # 2000-01-01 in Unix seconds: PostgreSQL's binary timestamp origin
PG_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
PG_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
ENTRY_COLUMNS = ("user_id", "anime_id", "status", "score", "episodes_watched", "updated_at")
SQL_BATCH = 5_000


@dataclass
class GenerateSummary:
    users: int
    hashed_users: int
    entries: int
    seconds: float
    list_lengths: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    statuses: dict = field(default_factory=dict)
    update_years: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def population_stats(lengths: np.ndarray, score_counts: np.ndarray, status_counts: np.ndarray,
                     year_range) -> dict:
    """Distribution figures of a population, for the report and the smoke test."""
    from bench.population import STATUSES
    total = max(int(status_counts.sum()), 1)
    return {
        "list_lengths": {
            "median": float(np.median(lengths)), "mean": float(lengths.mean()),
            "p90": float(np.percentile(lengths, 90)), "p99": float(np.percentile(lengths, 99)),
            "max": int(lengths.max()), "over_2000": int((lengths > 2000).sum()),
        },
        "scores": {str(s): int(c) for s, c in enumerate(score_counts)},
        "statuses": {name: round(int(c) / total, 4) for name, c in zip(STATUSES, status_counts)},
        "update_years": {"first": int(year_range[0]), "last": int(year_range[1])},
    }


def generate_into_db(*, users: int, seed: int, progress: bool = True) -> GenerateSummary:
    """Replace the generated population in the configured database; returns a summary."""
    from django.db import connection, transaction

    from bench import population
    from recommendations import live_index
    from recommendations.catalog import catalog_link_parents, catalog_upsert
    from recommendations.models import IndexChange

    started = time.perf_counter()
    catalog = population.load_catalog()
    with transaction.atomic():
        catalog_upsert(records=catalog.records)
        catalog_link_parents(pairs=catalog.sequels)
    _clear_users(connection)
    lengths = np.zeros(users, dtype=np.int64)
    score_counts = np.zeros(11, dtype=np.int64)
    status_counts = np.zeros(len(population.STATUSES), dtype=np.int64)
    hashed = entries = 0
    years = [9999, 0]
    pg = connection.vendor == "postgresql"
    dropped = _drop_entry_indexes(connection) if pg else []
    for chunk in population.generate(users, seed, catalog):
        _write_users(connection, chunk, population.username)
        _write_entries(connection, chunk) if not pg else _copy_entries(connection, chunk)
        lengths[chunk.first_user:chunk.first_user + chunk.n_users] = np.bincount(
            chunk.user - chunk.first_user, minlength=chunk.n_users)
        score_counts += np.bincount(chunk.score, minlength=11)
        status_counts += np.bincount(chunk.status, minlength=len(population.STATUSES))
        first_last = chunk.updated.min(), chunk.updated.max()
        years = [min(years[0], _year(first_last[0])), max(years[1], _year(first_last[1]))]
        hashed += int((chunk.hashes != 0).sum())
        entries += len(chunk.user)
        if progress:
            print(f"  {chunk.first_user + chunk.n_users:,} users, {entries:,} entries, "
                  f"{time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    if pg:
        _restore_entry_indexes(connection, dropped)
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('users_maluser', 'id'), "
                           "(SELECT MAX(id) FROM users_maluser))")
            # VACUUM cannot run inside a transaction (tests); ANALYZE alone can.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            for table in ("users_maluser", "users_listentry", "recommendations_anime"):
                cursor.execute(f"{command} {table}")
    # A feed entry after the load: any index (or index file) built before it is stale.
    with transaction.atomic():
        live_index.record_changes(IndexChange.Kind.ANIME, [int(catalog.ids[0])])
    return GenerateSummary(
        users=users, hashed_users=hashed, entries=entries,
        seconds=round(time.perf_counter() - started, 2),
        **population_stats(lengths, score_counts, status_counts, years),
    )


def _year(epoch_seconds) -> int:
    return dt.datetime.fromtimestamp(int(epoch_seconds), dt.timezone.utc).year


def _clear_users(connection) -> None:
    from users.models import MalUser
    others = MalUser.objects.exclude(username__startswith="bench").count()
    if others:
        raise SystemExit(f"refusing to run: the database holds {others} users that the "
                         "generator did not make; point DATABASE_URL at a dedicated database")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE users_listentry, recommendations_similaritysnapshot, "
                           "users_maluser RESTART IDENTITY CASCADE")
        else:
            for table in ("users_listentry", "recommendations_similaritysnapshot",
                          "users_maluser"):
                cursor.execute(f"DELETE FROM {table}")


def _signed(hashes: np.ndarray) -> list:
    """Hashes as the BIGINT column stores them (two's complement), None for 0."""
    signed = hashes.view(np.int64).tolist()
    return [None if h == 0 else h for h in signed]


def _write_users(connection, chunk, username) -> None:
    now = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    ids = range(chunk.first_user + 1, chunk.first_user + chunk.n_users + 1)
    rows = [(i, username(i - 1), h, now, now, now, now)
            for i, h in zip(ids, _signed(chunk.hashes))]
    columns = "id, username, hash, list_synced_at, full_synced_at, created_at, updated_at"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY users_maluser ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO users_maluser ({columns}) VALUES ({', '.join(['%s'] * 7)})"
            for start in range(0, len(rows), SQL_BATCH):
                cursor.executemany(sql, rows[start:start + SQL_BATCH])


def _write_entries(connection, chunk) -> None:
    """Batched INSERTs (SQLite, MySQL): times as UTC text, the form Django stores."""
    from bench.population import STATUSES
    stamps = np.char.replace(
        np.datetime_as_string(chunk.updated.astype("datetime64[s]"), unit="s"), "T", " ")
    rows = list(zip((chunk.user + 1).tolist(), chunk.anime_id.tolist(),
                    np.array(STATUSES)[chunk.status].tolist(), chunk.score.tolist(),
                    chunk.episodes.tolist(), stamps.tolist()))
    sql = (f"INSERT INTO users_listentry ({', '.join(ENTRY_COLUMNS)}) "
           f"VALUES ({', '.join(['%s'] * len(ENTRY_COLUMNS))})")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), SQL_BATCH):
            cursor.executemany(sql, rows[start:start + SQL_BATCH])


def _copy_entries(connection, chunk) -> None:
    """COPY ... (FORMAT BINARY): fixed-width records per status, built by numpy."""
    from bench.population import STATUSES
    with connection.cursor() as cursor:
        sql = f"COPY users_listentry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        with cursor.cursor.copy(sql) as copy:
            copy.write(PG_COPY_HEADER)
            for code, name in enumerate(STATUSES):
                sel = chunk.status == code
                copy.write(_binary_records(chunk, sel, name.encode()).tobytes())
            copy.write(PG_COPY_TRAILER)


def _binary_records(chunk, sel: np.ndarray, status: bytes) -> np.ndarray:
    dtype = np.dtype([
        ("fields", ">i2"),
        ("l_user", ">i4"), ("user", ">i8"), ("l_anime", ">i4"), ("anime", ">i4"),
        ("l_status", ">i4"), ("status", f"S{len(status)}"), ("l_score", ">i4"),
        ("score", ">i2"), ("l_episodes", ">i4"), ("episodes", ">i4"),
        ("l_updated", ">i4"), ("updated", ">i8"),
    ])
    out = np.empty(int(sel.sum()), dtype=dtype)
    out["fields"] = len(ENTRY_COLUMNS)
    out["l_user"], out["l_anime"], out["l_status"] = 8, 4, len(status)
    out["l_score"], out["l_episodes"], out["l_updated"] = 2, 4, 8
    out["user"] = chunk.user[sel] + 1
    out["anime"] = chunk.anime_id[sel]
    out["status"] = status
    out["score"] = chunk.score[sel]
    out["episodes"] = chunk.episodes[sel]
    out["updated"] = (chunk.updated[sel] - PG_EPOCH) * 1_000_000
    return out


def _drop_entry_indexes(connection) -> list[str]:
    """Drop the entry table's secondary indexes for the load; returns how to remake them."""
    remake = []
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no FK triggers per row
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'users_listentry'::regclass AND contype = 'u'")
        for name, definition in cursor.fetchall():
            remake.append(f"ALTER TABLE users_listentry ADD CONSTRAINT {name} {definition}")
            cursor.execute(f"ALTER TABLE users_listentry DROP CONSTRAINT {name}")
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = "
            "'users_listentry' AND i.indexname NOT IN (SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'users_listentry'::regclass)")
        for name, definition in cursor.fetchall():
            remake.append(definition)
            cursor.execute(f"DROP INDEX {name}")
    return remake


def _restore_entry_indexes(connection, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("SET session_replication_role = DEFAULT")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reko.settings")
    import django
    django.setup()
    summary = generate_into_db(users=args.users, seed=args.seed, progress=not args.quiet)
    import json
    print(json.dumps(summary.as_dict()))


if __name__ == "__main__":
    main()
