"""Writes to the anime catalog, and the catalog as the taste hash sees it."""
import numpy as np
from django.db import transaction

from recommendations import engine
from recommendations.catalog_files import AnimeRecord
from recommendations.models import Anime, IndexChange, anime_hash_slots
from recommendations.taste_hash import SlotTable

UPDATED_FIELDS = ["title", "episodes", "mean", "media_type", "genres", "start_date", "rating",
                  "picture", "airing_status"]


@transaction.atomic
def catalog_upsert(*, records: list[AnimeRecord], batch_size: int = 2000) -> int:
    """Insert or update these anime (by MAL id); returns how many were written."""
    rows = [Anime(id=r.id, title=r.title, episodes=r.episodes, mean=r.mean,
                  media_type=r.media_type, genres=r.genres, start_date=r.start_date,
                  rating=r.rating, picture=r.picture, airing_status=r.airing_status)
            for r in records]
    Anime.objects.bulk_create(rows, batch_size=batch_size, update_conflicts=True,
                              unique_fields=["id"], update_fields=UPDATED_FIELDS)
    engine.record_changes(IndexChange.Kind.ANIME, [records[0].id] if records else [])
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
        engine.record_changes(IndexChange.Kind.ANIME, [changed[0].id])
    return len(changed)


def catalog_slot_table() -> tuple[np.ndarray, SlotTable]:
    """Catalog anime ids (ascending) and the hash slots of each, row for row."""
    rows = list(Anime.objects.order_by("id").values_list(
        "id", "start_date", "episodes", "rating", "genres"))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    table = SlotTable([
        anime_hash_slots(start_date=r[1], episodes=r[2], rating=r[3], genres=r[4]) for r in rows
    ])
    return ids, table
