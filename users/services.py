"""Writes and look-ups of MAL users that the API and the commands share."""
import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.utils import timezone

from recommendations import live_index
from recommendations.models import Anime, IndexChange, anime_hash_slots
from recommendations.catalog import catalog_insert_missing, catalog_slot_table
from recommendations.catalog_files import AnimeRecord
from recommendations.engine.taste_hash import (
    MAX_ENTRIES, SlotTable, counters_for_users, hash_from_counters, latest_entries_mask,
)
from reko.exceptions import EmptyUserList, HashFailed, InvalidUsername
from users.models import USERNAME_RE, ListEntry, MalUser, watched_q


def normalize_username(username: str) -> str:
    """The stored form of a MAL username; ``InvalidUsername`` if it cannot be one."""
    if not USERNAME_RE.match(username or ""):
        raise InvalidUsername()
    return username.lower()


def counted_entries(user: MalUser) -> list[tuple[Anime, int]]:
    """The entries the hash counts: the latest watched ones whose anime is in the catalog."""
    entries = (
        ListEntry.objects.filter(watched_q(), user=user, anime_id__in=Anime.objects.values("id"))
        .select_related("anime").order_by("-updated_at", "anime_id")[:MAX_ENTRIES]
    )
    return [(entry.anime, entry.score) for entry in entries]


def user_hash(user: MalUser) -> int:
    """The user's taste hash from their stored list.

    Raises ``EmptyUserList`` when nothing in the list counts, ``HashFailed`` on a zero hash.
    """
    counted = counted_entries(user)
    if not counted:
        raise EmptyUserList()
    table = SlotTable([
        anime_hash_slots(start_date=a.start_date, episodes=a.episodes, rating=a.rating,
                         genres=a.genres)
        for a, _ in counted
    ])
    counters = counters_for_users(
        user_rows=np.zeros(len(counted), dtype=np.int64), anime_rows=np.arange(len(counted)),
        scores=np.array([score for _, score in counted]), n_users=1, table=table,
    )
    value = int(hash_from_counters(counters)[0])
    if value == 0:
        raise HashFailed()
    return value


@transaction.atomic
def mal_user_rehash(*, user: MalUser) -> MalUser:
    """Recompute and store the user's hash, and tell the index."""
    user.hash = user_hash(user)
    user.save(update_fields=["hash", "updated_at"])
    live_index.record_changes(IndexChange.Kind.USER, [user.id])
    return user


def hashes_for_users(user_ids) -> dict[int, int | None]:
    """Taste hashes of many stored users at once (``None`` where nothing counts or it is 0).

    Same rule as ``user_hash``; ties in the update time go to the lower anime id.
    """
    user_ids = np.asarray(sorted(set(int(i) for i in user_ids)), dtype=np.int64)
    anime_ids, table = catalog_slot_table()
    rows = np.array(list(
        ListEntry.objects.filter(watched_q(), user_id__in=user_ids.tolist())
        .order_by("user_id", "anime_id").values_list("user_id", "anime_id", "score", "updated_at")
    ), dtype=object).reshape(-1, 4)
    entry_user = rows[:, 0].astype(np.int64)
    entry_anime = rows[:, 1].astype(np.int64)
    anime_rows = np.minimum(np.searchsorted(anime_ids, entry_anime), max(len(anime_ids) - 1, 0))
    in_catalog = anime_ids[anime_rows] == entry_anime if len(anime_ids) else entry_anime < 0
    updated = np.array([u.timestamp() for u in rows[:, 3]], dtype=np.float64)
    user_rows = np.searchsorted(user_ids, entry_user)
    keep = in_catalog.copy()
    keep[keep] = latest_entries_mask(user_rows[keep], updated[keep], MAX_ENTRIES)
    counters = counters_for_users(
        user_rows=user_rows[keep], anime_rows=anime_rows[keep],
        scores=rows[keep, 2].astype(np.int64), n_users=len(user_ids), table=table)
    hashes = hash_from_counters(counters)
    return {int(uid): (int(h) or None) for uid, h in zip(user_ids, hashes)}


@transaction.atomic
def mal_users_rehash(*, user_ids) -> dict[int, int | None]:
    """Recompute and store many users' hashes in one go (imports); returns them."""
    hashes = hashes_for_users(user_ids)
    users = list(MalUser.objects.filter(id__in=list(hashes)))
    now = timezone.now()
    for user in users:
        user.hash = hashes[user.id]
        user.updated_at = now  # what caches of the user's list are keyed by
    MalUser.objects.bulk_update(users, ["hash", "updated_at"], batch_size=2000)
    live_index.record_changes(IndexChange.Kind.USER, list(hashes))
    return hashes


@dataclass(frozen=True)
class EntryData:
    """One list entry to store, whatever it was read from (MAL API, MAL export)."""

    anime_id: int
    status: str
    score: int
    episodes_watched: int
    updated_at: dt.datetime


ENTRY_FIELDS = ["status", "score", "episodes_watched", "updated_at"]


@transaction.atomic
def mal_user_store_list(*, username: str, entries: list[EntryData], full: bool,
                        anime: list[AnimeRecord] = (), synced_at: dt.datetime | None) -> MalUser:
    """Create or update a user with these entries and rehash them, all in one transaction.

    ``full``: the entries are the whole list, so stored entries not among them go.
    ``anime``: catalog rows for anime the catalog lacks (known anime are left alone).
    ``synced_at``: when the list was read from MAL; ``None`` marks a list imported from a
    file, which requests never refresh from MAL (it may be private there).
    Raises ``EmptyUserList`` / ``HashFailed`` with nothing written.
    """
    if anime:
        catalog_insert_missing(records=list(anime))
    user, _ = MalUser.objects.select_for_update().get_or_create(username=username)
    if full:
        fetched = {e.anime_id for e in entries}
        stored = set(ListEntry.objects.filter(user=user).values_list("anime_id", flat=True))
        stale = sorted(stored - fetched)
        for start in range(0, len(stale), 500):
            ListEntry.objects.filter(user=user, anime_id__in=stale[start:start + 500]).delete()
    ListEntry.objects.bulk_create(
        [ListEntry(user=user, anime_id=e.anime_id, status=e.status, score=e.score,
                   episodes_watched=e.episodes_watched, updated_at=e.updated_at)
         for e in entries],
        batch_size=500, update_conflicts=True, unique_fields=["user", "anime"],
        update_fields=ENTRY_FIELDS,
    )
    user.list_synced_at = synced_at
    if full or synced_at is None:
        user.full_synced_at = synced_at
    user.save(update_fields=["list_synced_at", "full_synced_at", "updated_at"])
    return mal_user_rehash(user=user)


@transaction.atomic
def mal_user_delete(*, username: str) -> bool:
    """Forget a user and their list (MAL says they are gone or private); ``True`` if stored."""
    user_ids = list(MalUser.objects.filter(username=username).values_list("id", flat=True))
    if not user_ids:
        return False
    MalUser.objects.filter(id__in=user_ids).delete()
    live_index.record_changes(IndexChange.Kind.USER, user_ids)
    return True
