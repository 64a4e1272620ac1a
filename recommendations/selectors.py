"""Reads of the catalog and of what the in-memory index is built from.

The index loaders read straight into numpy arrays with one SQL statement each: going
through model instances would cost seconds per million entries.
"""
import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from django.db import connection, connections
from django.db.models import Q

from recommendations.lru import LruDict
from recommendations.models import Anime, IndexChange, SimilaritySnapshot
from reko.raw_rows import instance_from_row, select_columns
from recommendations.engine.ranking import Catalog
from users.models import STORED_USERNAME_RE, ListEntry, MalUser

logger = logging.getLogger(__name__)

FETCH_ROWS = 200_000
# PostgreSQL's binary timestamps count microseconds from 2000-01-01.
PG_EPOCH_US = 946_684_800 * 1_000_000
PG_COPY_HEADER_BYTES = 19
# One packed entry of the PostgreSQL loader: anime id, score, update time (big-endian).
_PACKED_ENTRY = np.dtype([("anime_id", ">i4"), ("score", ">i2"), ("updated", ">i8")])
LOADER_THREADS = 2


def _epoch_seconds_sql(column: str) -> str:
    vendor = connection.vendor
    if vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    if vendor == "mysql":
        return f"UNIX_TIMESTAMP({column})"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


def _fetch_array(sql: str, params, dtype) -> np.ndarray:
    chunks = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            chunks.append(np.array(rows, dtype=dtype))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)


def index_users(user_ids=None) -> np.ndarray:
    """``(id, username, hash)`` of hashed users, as a structured array.

    A row the index cannot hold (a username edited by hand past the model's validation:
    upper-case, too long for the index's 16 bytes) is left out and logged, rather than
    failing every index build and refresh, and with them every index-backed route.
    """
    users = MalUser.objects.filter(hash__isnull=False)
    if user_ids is not None:
        users = users.filter(id__in=list(user_ids))
    rows = [row for row in users.values_list("id", "username", "hash") if _indexable(row)]
    out = np.zeros(len(rows), dtype=[("id", "i8"), ("username", "S16"), ("hash", "u8")])
    if rows:
        ids, names, hashes = zip(*rows)
        out["id"], out["username"], out["hash"] = ids, [n.encode() for n in names], hashes
    return out


def _indexable(row) -> bool:
    user_id, username, _ = row
    if isinstance(username, str) and STORED_USERNAME_RE.match(username):
        return True
    logger.warning("Index: user %s left out: %r is not a stored MAL username (fix it in "
                   "the admin)", user_id, username)
    return False


# The entries that can recommend something (users.models.watched_q, and scored), as SQL
# for the loaders below, which bypass the ORM.
WATCHED_SQL = "(status = 'completed' OR (status = 'watching' AND episodes_watched > 0))"
WATCHED_SCORED_SQL = f"score > 0 AND {WATCHED_SQL}"


def index_entries(user_ids=None) -> np.ndarray:
    """``(user_id, anime_id, score, updated)`` of every watched, scored entry."""
    table = ListEntry._meta.db_table
    sql = (f"SELECT user_id, anime_id, score, {_epoch_seconds_sql('updated_at')} FROM {table} "
           f"WHERE {WATCHED_SCORED_SQL}")
    user_ids = None if user_ids is None else [int(i) for i in user_ids] or [-1]
    if user_ids is not None:
        sql += f" AND user_id IN ({', '.join(['%s'] * len(user_ids))})"
    dtype = [("user_id", "i8"), ("anime_id", "i8"), ("score", "i8"), ("updated", "i8")]
    return _fetch_array(sql, user_ids or [], dtype)


def list_entries_all() -> np.ndarray:
    """``(user_id, anime_id, score, watched, updated)`` of every list entry, any status
    (``evaluate`` reads whole lists: hidden entries, the hash's unscored ones)."""
    sql = (f"SELECT user_id, anime_id, score, CASE WHEN {WATCHED_SQL} THEN 1 ELSE 0 END, "
           f"{_epoch_seconds_sql('updated_at')} FROM {ListEntry._meta.db_table}")
    dtype = [("user_id", "i8"), ("anime_id", "i8"), ("score", "i8"), ("watched", "?"),
             ("updated", "i8")]
    return _fetch_array(sql, [], dtype)


def index_entry_columns() -> dict[str, np.ndarray]:
    """Every watched, scored entry as columns (``user_id`` int64, ``anime_id`` int32,
    ``score`` uint8, ``updated`` int64 seconds), grouped by user in ascending user id.

    Same rows as ``index_entries()``. On PostgreSQL each user's entries come as one packed
    ``bytea`` through ``COPY ... TO STDOUT (FORMAT BINARY)``, read by two connections over
    two halves of the users: rows one by one cost seconds per million entries.
    """
    if connection.vendor != "postgresql":
        rows = index_entries()
        order = np.argsort(rows["user_id"], kind="stable")
        return {"user_id": rows["user_id"][order],
                "anime_id": rows["anime_id"][order].astype(np.int32),
                "score": rows["score"][order].astype(np.uint8),
                "updated": rows["updated"][order]}
    table = ListEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(user_id), MAX(user_id) FROM {table}")
        low, high = cursor.fetchone()
    if low is None:
        return {"user_id": np.zeros(0, np.int64), "anime_id": np.zeros(0, np.int32),
                "score": np.zeros(0, np.uint8), "updated": np.zeros(0, np.int64)}
    if connection.in_atomic_block:
        # Other connections would not see this transaction's rows (tests, imports).
        parts = [_copy_user_blocks(connection, low, high + 1)]
    else:
        bounds = np.linspace(low, high + 1, LOADER_THREADS + 1).astype(np.int64).tolist()
        alias = connection.alias
        with ThreadPoolExecutor(LOADER_THREADS) as pool:
            parts = list(pool.map(lambda r: _copy_on_own_connection(alias, *r),
                                  zip(bounds[:-1], bounds[1:])))
    columns = {name: np.concatenate([p[name] for p in parts])
               for name in ("user_id", "anime_id", "score", "updated")}
    return columns


def _copy_on_own_connection(alias: str, low: int, high: int) -> dict[str, np.ndarray]:
    conn = connections[alias]  # this thread's own connection
    try:
        return _copy_user_blocks(conn, low, high)
    finally:
        conn.close()


def _copy_user_blocks(conn, low: int, high: int) -> dict[str, np.ndarray]:
    """Entries of users ``low <= id < high`` (PostgreSQL)."""
    table = ListEntry._meta.db_table
    sql = (
        "COPY (SELECT user_id, string_agg(int4send(anime_id) || int2send(score) || "
        f"timestamptz_send(updated_at), ''::bytea) FROM {table} WHERE {WATCHED_SCORED_SQL} "
        f"AND user_id >= {int(low)} AND user_id < {int(high)} GROUP BY user_id "
        "ORDER BY user_id) TO STDOUT (FORMAT BINARY)"
    )
    data = bytearray()
    with conn.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for chunk in copy:
            data += chunk
    return _parse_user_blocks(memoryview(data))


def _parse_user_blocks(data: memoryview) -> dict[str, np.ndarray]:
    """Rows ``(user_id int8, packed bytea)`` of a binary COPY, unpacked into columns."""
    user_ids, counts, payloads = [], [], []
    at = PG_COPY_HEADER_BYTES
    end = len(data) - 2  # the trailer
    while at < end:
        # field count (2), length (4) + user id (8), length (4) + bytes
        user_ids.append(int.from_bytes(data[at + 6:at + 14], "big", signed=True))
        size = int.from_bytes(data[at + 14:at + 18], "big", signed=True)
        payloads.append(data[at + 18:at + 18 + size])
        counts.append(size // _PACKED_ENTRY.itemsize)
        at += 18 + size
    packed = np.frombuffer(b"".join(payloads), dtype=_PACKED_ENTRY)
    del payloads
    micros = packed["updated"].astype(np.int64) + PG_EPOCH_US
    # CAST(EXTRACT(EPOCH ...) AS BIGINT) rounds half away from zero, as this does.
    seconds = np.sign(micros) * ((np.abs(micros) + 500_000) // 1_000_000)
    return {
        "user_id": np.repeat(np.array(user_ids, dtype=np.int64), counts),
        "anime_id": packed["anime_id"].astype(np.int32),
        "score": packed["score"].astype(np.uint8),
        "updated": seconds,
    }


def index_catalog() -> Catalog:
    rows = list(Anime.objects.values_list("id", "mean", "parent_id"))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    mean = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=np.float64)
    has_parent = np.array([r[2] is not None for r in rows], dtype=bool)
    return Catalog.from_arrays(ids=ids, mean=mean, has_parent=has_parent)


def index_changes_after(change_id: int, *, also_ids=()) -> list[tuple[int, str, int]]:
    """Feed rows after ``change_id``, and those of ``also_ids`` (gaps) that exist now."""
    wanted = Q(id__gt=change_id)
    if also_ids:
        wanted |= Q(id__in=list(also_ids))
    return list(IndexChange.objects.filter(wanted).order_by("id")
                .values_list("id", "kind", "object_id"))


def index_state_stamp(change_id: int) -> str:
    """A short fingerprint of the indexed data at feed position ``change_id``."""
    change = IndexChange.objects.filter(id=change_id).values_list("created_at", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX(id) FROM {MalUser._meta.db_table} "
                       "WHERE hash IS NOT NULL")
        count, largest = cursor.fetchone()
    created = int(change.timestamp() * 1e6) if change else 0
    return f"{created}-{count}-{largest or 0}"


def last_index_change_id() -> int:
    last = IndexChange.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


def anime_all():
    """Every anime of the catalog (an iterator: the catalog is read in chunks)."""
    return Anime.objects.all().iterator(chunk_size=5000)


def anime_by_ids(anime_ids) -> dict[int, Anime]:
    return Anime.objects.in_bulk([int(i) for i in anime_ids])


# Requesters whose lists this process holds; a list is kept under the user's
# ``updated_at``, which every write of their entries moves (users.services).
LISTED_ANIME_USERS = 4096
_listed_anime = LruDict(LISTED_ANIME_USERS)


def user_anime_ids(user: MalUser) -> np.ndarray:
    """Every anime in the user's list, whatever its status."""
    key = (user.id, user.updated_at)
    cached = _listed_anime.get(key)
    if cached is not None:
        return cached
    # Raw SQL: the ORM's query building costs more than the query on this hot path.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT anime_id FROM {ListEntry._meta.db_table} WHERE user_id = %s",
                       [user.id])
        anime_ids = np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64)
    anime_ids.flags.writeable = False
    _listed_anime.put(key, anime_ids)
    return anime_ids


def forget_cached_lists() -> None:
    _listed_anime.clear()


def snapshot_of(user: MalUser) -> SimilaritySnapshot | None:
    # Plain SQL: every later page of a walk may read this (see reko.raw_rows).
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select_columns(SimilaritySnapshot)} FROM "
                       f"{SimilaritySnapshot._meta.db_table} WHERE user_id = %s", [user.id])
        row = cursor.fetchone()
    return None if row is None else instance_from_row(SimilaritySnapshot, row)
