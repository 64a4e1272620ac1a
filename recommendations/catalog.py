"""Writes to the anime catalog, and the catalog as the taste hash sees it."""
import numpy as np
from django.db import transaction
from django.utils import timezone

from recommendations import live_index
from recommendations.catalog_files import AnimeRecord
from recommendations.models import Anime, IndexChange, anime_hash_slots
from recommendations.engine.taste_hash import SlotTable

# ``updated_at`` too: bulk_create fills it with the time of the write, which is when the
# row was last refreshed (update_airing_anime picks the oldest first).
UPDATED_FIELDS = ["title", "episodes", "mean", "media_type", "genres", "start_date", "rating",
                  "picture", "airing_status", "updated_at"]


def _anime_row(r: AnimeRecord) -> Anime:
    return Anime(id=r.id, title=r.title, episodes=r.episodes, mean=r.mean,
                 media_type=r.media_type, genres=r.genres, start_date=r.start_date,
                 rating=r.rating, picture=r.picture, airing_status=r.airing_status)


@transaction.atomic
def catalog_upsert(*, records: list[AnimeRecord], batch_size: int = 2000) -> int:
    """Insert or update these anime (by MAL id); returns how many were written."""
    rows = [_anime_row(r) for r in records]
    Anime.objects.bulk_create(rows, batch_size=batch_size, update_conflicts=True,
                              unique_fields=["id"], update_fields=UPDATED_FIELDS)
    live_index.record_changes(IndexChange.Kind.ANIME, [records[0].id] if records else [])
    return len(rows)


@transaction.atomic
def catalog_link_parents(*, pairs: list[tuple[int, int]]) -> int:
    """Give each child anime its parent; children missing from the catalog are skipped."""
    children = Anime.objects.in_bulk([child for _, child in pairs])
    changed = []
    for parent, child in pairs:
        anime = children.get(child)
        if anime is not None and anime.parent_id != parent and parent != child:
            anime.parent_id = parent
            changed.append(anime)
    Anime.objects.bulk_update(changed, ["parent"], batch_size=2000)
    if changed:
        live_index.record_changes(IndexChange.Kind.ANIME, [changed[0].id])
    return len(changed)


@transaction.atomic
def catalog_insert_missing(*, records: list[AnimeRecord]) -> list[int]:
    """Insert the anime the catalog does not have yet (known ones are left alone).

    Returns the ids inserted. Used for the anime nodes of a fetched list: they are fresh
    enough for a first catalog row, and rewriting known rows on every list fetch would
    make every process reload its catalog.
    """
    wanted = {r.id: r for r in records}
    known = set(Anime.objects.filter(id__in=list(wanted)).values_list("id", flat=True))
    new = [r for anime_id, r in wanted.items() if anime_id not in known]
    if not new:
        return []
    Anime.objects.bulk_create([_anime_row(r) for r in new], batch_size=2000,
                              ignore_conflicts=True)
    live_index.record_changes(IndexChange.Kind.ANIME, [new[0].id])
    return [r.id for r in new]


@transaction.atomic
def catalog_store_details(*, records: list[AnimeRecord]) -> int:
    """Upsert these anime; those whose relations were read also get their parent
    (or lose a stale one) and ``relations_checked_at``. Returns how many were written."""
    written = catalog_upsert(records=records)
    checked = {r.id: r for r in records if r.relations_checked}
    if checked:
        now = timezone.now()
        rows = list(Anime.objects.filter(id__in=list(checked)))
        for anime in rows:
            parent = checked[anime.id].parent_id
            anime.parent_id = parent if parent != anime.id else None
            anime.relations_checked_at = now
        Anime.objects.bulk_update(rows, ["parent", "relations_checked_at"], batch_size=2000)
    return written


def catalog_slot_table() -> tuple[np.ndarray, SlotTable]:
    """Catalog anime ids (ascending) and the hash slots of each, row for row."""
    rows = list(Anime.objects.order_by("id").values_list(
        "id", "start_date", "episodes", "rating", "genres"))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    table = SlotTable([
        anime_hash_slots(start_date=r[1], episodes=r[2], rating=r[3], genres=r[4]) for r in rows
    ])
    return ids, table
