"""Keeping the anime catalog current from MyAnimeList (one ``/anime/{id}`` call per anime).

Fetched anime are stored in batches; users whose hash may change because an anime they
watched entered the catalog are rehashed in the same transaction.
"""
import datetime as dt
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from tqdm import tqdm

from recommendations.catalog import catalog_store_details
from recommendations.catalog_files import AnimeRecord, record_from_mal
from recommendations.models import Anime
from reko import shared_cache
from users import mal_client
from users.models import ListEntry, watched_q
from users.services import mal_users_rehash

logger = logging.getLogger(__name__)

STORE_BATCH = 100
GONE_KEY = "mal:anime-gone:{}"
GONE_SECONDS = 7 * 24 * 3600  # ask MAL again about an anime it did not know after a week
AIRING = (Anime.AiringStatus.AIRING, Anime.AiringStatus.NOT_YET)
AIRING_REFRESH_AFTER = dt.timedelta(hours=20)


class CatalogSyncError(Exception):
    """MAL failed part-way; what was fetched before is stored. ``summary`` says how far."""

    def __init__(self, message: str, summary: "CatalogSyncSummary"):
        super().__init__(message)
        self.summary = summary


@dataclass
class CatalogSyncSummary:
    requested: int = 0
    stored: int = 0
    new: int = 0
    gone: int = 0
    users_rehashed: int = 0

    def __str__(self):
        return (f"Anime: {self.requested} requested, {self.stored} stored ({self.new} new), "
                f"{self.gone} unknown to MyAnimeList; {self.users_rehashed} users rehashed.")


def _known_gone(anime_id: int) -> bool:
    try:
        return bool(shared_cache.call(cache.get, GONE_KEY.format(anime_id)))
    except shared_cache.CacheDown:
        return False  # asked again (and MAL is not called while the cache is down)


def _remember_gone(anime_id: int) -> None:
    try:
        shared_cache.call(cache.set, GONE_KEY.format(anime_id), 1, timeout=GONE_SECONDS)
    except shared_cache.CacheDown:
        pass


def anime_fetch_details(*, anime_ids, progress: bool = False) -> CatalogSyncSummary:
    """Fetch and store these anime with their parents. Stops at the first MAL outage."""
    summary = CatalogSyncSummary()
    batch: list[AnimeRecord] = []
    for anime_id in tqdm(list(anime_ids), desc="anime", unit="anime", disable=not progress):
        if _known_gone(anime_id):
            summary.gone += 1
            continue
        summary.requested += 1
        try:
            details = mal_client.anime_details(anime_id)
        except mal_client.MalUserNotFound:
            _remember_gone(anime_id)
            summary.gone += 1
            continue
        except mal_client.MalInvalidResponse as error:
            logger.warning("Anime %s skipped: %s", anime_id, error)
            continue
        except mal_client.MalError as error:
            _store(batch, summary)
            raise CatalogSyncError(f"MyAnimeList failed at anime {anime_id}: {error}",
                                   summary) from error
        batch.append(record_from_mal(details.anime, parent_id=details.parent_id,
                                     relations_checked=True))
        if len(batch) >= STORE_BATCH:
            _store(batch, summary)
    _store(batch, summary)
    return summary


@transaction.atomic
def _store(batch: list[AnimeRecord], summary: CatalogSyncSummary) -> None:
    if not batch:
        return
    ids = [r.id for r in batch]
    known = set(Anime.objects.filter(id__in=ids).values_list("id", flat=True))
    new = [i for i in ids if i not in known]
    catalog_store_details(records=batch)
    if new:
        # Their hash counts only catalog anime: users who watched these need a new one.
        user_ids = set(ListEntry.objects.filter(watched_q(), anime_id__in=new)
                       .values_list("user_id", flat=True).distinct())
        if user_ids:
            mal_users_rehash(user_ids=user_ids)
        summary.users_rehashed += len(user_ids)
    summary.stored += len(batch)
    summary.new += len(new)
    batch.clear()


def anime_missing_ids(*, limit: int) -> list[int]:
    """Anime named by list entries but missing from the catalog, then catalog anime whose
    relations were never read."""
    missing = list(ListEntry.objects.exclude(anime_id__in=Anime.objects.values("id"))
                   .order_by("anime_id").values_list("anime_id", flat=True).distinct()[:limit])
    unchecked = list(Anime.objects.filter(relations_checked_at__isnull=True)
                     .order_by("id").values_list("id", flat=True)[:max(limit - len(missing), 0)])
    return missing + unchecked


def anime_airing_ids(*, limit: int) -> list[int]:
    """Anime still airing (or announced) not refreshed lately, then the least recently
    updated others."""
    recent = timezone.now() - AIRING_REFRESH_AFTER
    return list(
        Anime.objects.exclude(airing_status__in=AIRING, updated_at__gte=recent)
        .annotate(airing_first=Case(When(airing_status__in=AIRING, then=Value(0)),
                                    default=Value(1), output_field=IntegerField()))
        .order_by("airing_first", "updated_at", "id").values_list("id", flat=True)[:limit])
