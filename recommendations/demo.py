"""The embedded demo: the real catalog, sequel links and 549 real (renamed) users' lists.

The demo lists have no update times. The rule, fixed so that every load gives the same
data: a user's entries are taken as updated one minute apart, in file order, going back
from ``DEMO_LISTS_TIME`` (the first entry in the file is the most recent).
"""
import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from tqdm import tqdm

from recommendations.catalog import catalog_link_parents, catalog_upsert
from recommendations.catalog_files import (
    CatalogFileError, open_text, parse_demo_csv, parse_sequels_csv,
)
from users.models import USERNAME_RE, ListEntry, MalUser
from users.services import mal_users_rehash

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
DEMO_LISTS_TIME = dt.datetime(2019, 7, 1, tzinfo=dt.timezone.utc)
STATUSES = set(ListEntry.Status.values)


@dataclass(frozen=True)
class DemoEntry:
    username: str
    anime_id: int
    score: int
    status: str
    episodes_watched: int = 0


@dataclass(frozen=True)
class DemoSummary:
    anime: int
    parents: int
    users: int
    entries: int
    entries_outside_catalog: int
    hashed: int

    def __str__(self):
        return (f"Loaded {self.anime} anime ({self.parents} sequel links), {self.users} users, "
                f"{self.entries} list entries ({self.entries_outside_catalog} of anime not in "
                f"the catalog); {self.hashed} users hashed, {self.users - self.hashed} not.")


def parse_demo_lists(lines) -> list[DemoEntry]:
    reader = csv.DictReader(lines)
    if not {"username", "anime_id", "score", "status"} <= set(reader.fieldnames or []):
        raise CatalogFileError("header: expected columns username,anime_id,score,status")
    entries, seen = [], set()
    for line_number, row in enumerate(reader, start=2):
        where = f"line {line_number}"
        username = (row["username"] or "").strip().lower()
        if not USERNAME_RE.match(username):
            raise CatalogFileError(f"{where}: field 'username' is not a MAL username")
        try:
            anime_id, score = int(row["anime_id"]), int(row["score"])
        except (TypeError, ValueError):
            raise CatalogFileError(f"{where}: fields 'anime_id' and 'score' must be integers")
        if not 0 <= score <= 10:
            raise CatalogFileError(f"{where}: field 'score' must lie between 0 and 10")
        if row["status"] not in STATUSES:
            raise CatalogFileError(f"{where}: field 'status' is not one of {sorted(STATUSES)}")
        episodes = (row.get("watched_episodes") or "").strip() or "0"
        if not episodes.isascii() or not episodes.isdigit():
            raise CatalogFileError(f"{where}: field 'watched_episodes' must be a whole number")
        if (username, anime_id) not in seen:  # a repeated row adds nothing
            seen.add((username, anime_id))
            entries.append(DemoEntry(username, anime_id, score, row["status"], int(episodes)))
    return entries


def demo_updated_at(entries: list[DemoEntry]) -> list[dt.datetime]:
    """Each entry's update time by the demo rule (see the module docstring)."""
    position: dict[str, int] = {}
    times = []
    for e in entries:
        nth = position.get(e.username, 0)
        position[e.username] = nth + 1
        times.append(DEMO_LISTS_TIME - dt.timedelta(minutes=nth))
    return times


def demo_load(*, data_dir: Path = DEMO_DIR, progress: bool = True) -> DemoSummary:
    """Import the demo files (all read and checked first), replacing earlier demo rows."""
    with open_text(data_dir / "anime.csv.gz") as f:
        catalog = parse_demo_csv(f)
    with open_text(data_dir / "sequels.csv") as f:
        sequels = parse_sequels_csv(f)
    with open_text(data_dir / "demo_lists.csv.gz") as f:
        entries = parse_demo_lists(f)
    with transaction.atomic():
        steps = tqdm(total=5, desc="load_demo", disable=not progress, unit="step")
        catalog_upsert(records=catalog)
        steps.update()
        catalog_link_parents(pairs=sequels)
        steps.update()
        users = _replace_demo_users(entries)
        steps.update()
        _store_entries(entries, users)
        steps.update()
        hashes = mal_users_rehash(user_ids=users.values())
        steps.update()
        steps.close()
    known = {record.id for record in catalog}
    # The links in place, not the ones this run changed: a second load reports the same.
    parents = len({child for parent, child in sequels if child in known and child != parent})
    return DemoSummary(
        anime=len(catalog), parents=parents, users=len(users), entries=len(entries),
        entries_outside_catalog=sum(1 for e in entries if e.anime_id not in known),
        hashed=sum(1 for h in hashes.values() if h is not None),
    )


def _replace_demo_users(entries: list[DemoEntry]) -> dict[str, int]:
    names = sorted({e.username for e in entries})
    existing = set(MalUser.objects.filter(username__in=names).values_list("username", flat=True))
    # No sync times: like users imported from a MAL export, demo users are never refreshed
    # from MAL (they are not MAL users, and MAL's 404 would delete them).
    MalUser.objects.bulk_create(
        [MalUser(username=n) for n in names if n not in existing], batch_size=1000)
    MalUser.objects.filter(username__in=names).update(list_synced_at=None, full_synced_at=None)
    users = dict(MalUser.objects.filter(username__in=names).values_list("username", "id"))
    ListEntry.objects.filter(user_id__in=users.values()).delete()
    return users


def _store_entries(entries: list[DemoEntry], users: dict[str, int]) -> None:
    rows = [
        ListEntry(user_id=users[e.username], anime_id=e.anime_id, score=e.score,
                  status=e.status, episodes_watched=e.episodes_watched, updated_at=updated_at)
        for e, updated_at in zip(entries, demo_updated_at(entries))
    ]
    ListEntry.objects.bulk_create(rows, batch_size=5000)
