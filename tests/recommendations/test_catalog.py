"""Catalog writes (recommendations/catalog.py)."""
import datetime as dt

import pytest
from django.utils import timezone

from recommendations.catalog import catalog_insert_missing, catalog_upsert
from recommendations.catalog_files import AnimeRecord
from recommendations.models import Anime

pytestmark = pytest.mark.django_db
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)


def test_an_upsert_rewrites_the_row_and_moves_its_update_time():
    catalog_upsert(records=[AnimeRecord(id=1, title="One")])
    Anime.objects.filter(id=1).update(updated_at=LONG_AGO)
    before = timezone.now()
    catalog_upsert(records=[AnimeRecord(id=1, title="One, again", mean=7.5)])
    anime = Anime.objects.get(id=1)
    assert (anime.title, anime.mean) == ("One, again", 7.5)
    assert anime.updated_at >= before


def test_inserting_missing_anime_leaves_known_rows_alone():
    catalog_upsert(records=[AnimeRecord(id=1, title="Known")])
    Anime.objects.filter(id=1).update(updated_at=LONG_AGO)
    inserted = catalog_insert_missing(records=[AnimeRecord(id=1, title="From a list"),
                                               AnimeRecord(id=2, title="New")])
    assert inserted == [2]
    known = Anime.objects.get(id=1)
    assert (known.title, known.updated_at) == ("Known", LONG_AGO)
    assert Anime.objects.get(id=2).title == "New"
