"""Reads of the catalog and of what the in-memory index is built from.

The index loaders read straight into numpy arrays with one SQL statement each: going
through model instances would cost seconds per million entries.
"""
import numpy as np
from django.db import connection

from recommendations.models import Anime, IndexChange, SimilaritySnapshot
from recommendations.ranking import Catalog
from users.models import ListEntry, MalUser

FETCH_ROWS = 200_000


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
    """``(id, username, hash)`` of hashed users, as a structured array."""
    users = MalUser.objects.filter(hash__isnull=False)
    if user_ids is not None:
        users = users.filter(id__in=list(user_ids))
    rows = list(users.values_list("id", "username", "hash"))
    out = np.zeros(len(rows), dtype=[("id", "i8"), ("username", "S16"), ("hash", "u8")])
    if rows:
        ids, names, hashes = zip(*rows)
        out["id"], out["username"], out["hash"] = ids, [n.encode() for n in names], hashes
    return out


def index_entries(user_ids=None) -> np.ndarray:
    """``(user_id, anime_id, score, updated)`` of every watched, scored entry."""
    table = ListEntry._meta.db_table
    sql = (
        f"SELECT user_id, anime_id, score, {_epoch_seconds_sql('updated_at')} FROM {table} "
        "WHERE score > 0 AND (status = %s OR (status = %s AND episodes_watched > 0))"
    )
    params = [ListEntry.Status.COMPLETED, ListEntry.Status.WATCHING]
    if user_ids is not None:
        user_ids = [int(i) for i in user_ids]
        if not user_ids:
            user_ids = [-1]
        sql += f" AND user_id IN ({', '.join(['%s'] * len(user_ids))})"
        params += user_ids
    dtype = [("user_id", "i8"), ("anime_id", "i8"), ("score", "i8"), ("updated", "i8")]
    return _fetch_array(sql, params, dtype)


def index_catalog() -> Catalog:
    rows = list(Anime.objects.values_list("id", "mean", "parent_id"))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    mean = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=np.float64)
    has_parent = np.array([r[2] is not None for r in rows], dtype=bool)
    return Catalog.from_arrays(ids=ids, mean=mean, has_parent=has_parent)


def index_changes_after(change_id: int) -> list[tuple[int, str, int]]:
    return list(
        IndexChange.objects.filter(id__gt=change_id).order_by("id")
        .values_list("id", "kind", "object_id")
    )


def last_index_change_id() -> int:
    last = IndexChange.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


def anime_by_ids(anime_ids) -> dict[int, Anime]:
    return Anime.objects.in_bulk([int(i) for i in anime_ids])


def user_anime_ids(user: MalUser) -> np.ndarray:
    """Every anime in the user's list, whatever its status."""
    ids = ListEntry.objects.filter(user=user).values_list("anime_id", flat=True)
    return np.fromiter(ids, dtype=np.int64)


def snapshot_of(user: MalUser) -> SimilaritySnapshot | None:
    return SimilaritySnapshot.objects.filter(user=user).first()
