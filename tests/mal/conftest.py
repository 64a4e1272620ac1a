"""Fixtures of the MyAnimeList integration tests: a fake MAL server and fast client settings."""
import datetime as dt

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.mal.fake_mal import FakeMal, anime_json, list_item

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def fake_mal(settings):
    """A fake MAL on 127.0.0.1 that the client points at, with tiny backoffs and timeouts."""
    fake = FakeMal().start()
    settings.MAL_API_URL = fake.url
    settings.MAL_CLIENT_ID = fake.client_id
    settings.MAL_CONNECT_TIMEOUT = 2.0
    settings.MAL_READ_TIMEOUT = 2.0
    settings.MAL_MAX_RETRIES = 2
    settings.MAL_RETRY_BACKOFF_SECONDS = 0.01
    settings.MAL_RETRY_MAX_WAIT_SECONDS = 1.0
    settings.MAL_REQUESTS_PER_SECOND = 1000.0
    settings.MAL_SYNC_LOCK_SECONDS = 10.0
    settings.RATELIMIT_ENABLE = False
    yield fake
    fake.stop()


@pytest.fixture
def api():
    return APIClient()


def make_list(count: int, *, first_id: int = 1, newest: dt.datetime = T0, **entry) -> list[dict]:
    """``count`` watched, scored entries of distinct anime, one minute apart going back."""
    genres = [(1, 4), (8, 22), (10, 24), (37, 7), (30, 41)]
    return [
        list_item(anime_json(first_id + i, genres=genres[i % len(genres)],
                             start_date=str(2000 + i % 25)),
                  updated_at=newest - dt.timedelta(minutes=i), score=1 + i % 10, **entry)
        for i in range(count)
    ]


def needs_postgres():
    return pytest.mark.skipif(connection.vendor != "postgresql",
                              reason="concurrent transactions need PostgreSQL; SQLite "
                                     "serialises writers and its test database is per thread")
