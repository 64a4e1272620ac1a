"""The shared cache (Redis) unreachable: the API keeps answering from the database and
the index. Client rate limits are not enforced meanwhile; MAL is not called (its request
budget and the one-fetch-per-user lock live in the cache), so a known user is served from
the stored copy and a never-seen one gets a 503 MALUnavailable with Retry-After."""
import datetime as dt
import io
import json
import subprocess
import sys

import pytest
import requests
from django.utils import timezone

from reko import shared_cache
from tests.helpers import assert_error, json_ok, stored_rows, user_at
from tests.live import REPO, clean_env, production_env
from tests.mal.conftest import fake_mal, make_list  # noqa: F401 (a fixture)
from users.sync import mal_user_sync

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # port 1: nothing listens, connections refused


def _unreachable_cache(settings):
    settings.CACHES = {"default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": UNREACHABLE_REDIS,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient",
                    "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}}}


@pytest.fixture
def cache_down(settings):
    _unreachable_cache(settings)
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_RATE = "1/m"


@pytest.mark.django_db
def test_known_users_are_served_and_not_rate_limited(client, cache_down):
    user_at(0, "req_user")
    user_at(3, "amy")
    for _ in range(3):  # over "1/m": not counted while the cache is down
        body = json_ok(client.get("/req_user/similar"))
        assert [u["username"] for u in body["data"]] == ["amy"]
    assert client.get("/version").content == b"1.0.0"


@pytest.mark.django_db
def test_a_never_seen_user_is_a_503_and_mal_is_not_called(client, fake_mal, settings):
    fake_mal.add_user("newcomer", make_list(3))
    _unreachable_cache(settings)
    response = client.get("/newcomer/similar")
    body = assert_error(response, 503, "MALUnavailable")
    assert response["Retry-After"] == "5"  # when the cache is tried again
    assert "try again" in body["message"].lower()
    assert fake_mal.requests() == []
    assert stored_rows()["MalUser"] == []


@pytest.mark.django_db
def test_a_stale_user_is_served_from_the_stored_copy(client, fake_mal, settings):
    fake_mal.add_user("alice", make_list(3))
    alice = mal_user_sync(username="alice").user  # stored while the cache was up
    stale = timezone.now() - dt.timedelta(days=10)
    type(alice).objects.filter(id=alice.id).update(list_synced_at=stale, full_synced_at=stale)
    fake_mal.log.clear()
    _unreachable_cache(settings)
    before = {k: stored_rows()[k] for k in ("MalUser", "ListEntry", "Anime")}

    body = json_ok(client.get("/alice/recommendations"))

    assert body["requester"]["username"] == "alice"
    assert fake_mal.requests() == []
    assert {k: stored_rows()[k] for k in ("MalUser", "ListEntry", "Anime")} == before


def test_the_cache_is_not_tried_again_at_once_after_a_failure(settings, monkeypatch):
    _unreachable_cache(settings)
    from django.core.cache import cache

    calls = []

    def get(key):
        calls.append(key)
        return cache.get(key)

    for _ in range(3):
        with pytest.raises(shared_cache.CacheDown):
            shared_cache.call(get, "anything")
    assert calls == ["anything"]  # one connection attempt, then the outage is remembered


def test_production_settings_give_redis_explicit_socket_timeouts():
    """reko.settings loaded in a fresh process, with only production's variables."""
    env = clean_env(DEBUG="0", SECRET_KEY="s3cret-for-this-test", ALLOWED_HOSTS="api.example",
                    DATABASE_URL="sqlite:////nonexistent/reko.sqlite3",
                    REDIS_URL="redis://cache.internal:6379/0", DJANGO_SETTINGS_MODULE="reko.settings")
    show = ("import json; from django.conf import settings as s; print(json.dumps("
            "[s.DEBUG, s.ALLOWED_HOSTS, s.CACHES['default']]))")
    result = subprocess.run([sys.executable, "-c", show], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    debug, hosts, cache = json.loads(result.stdout)
    assert (debug, hosts) == (False, ["api.example"])
    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    assert cache["LOCATION"] == "redis://cache.internal:6379/0"
    assert (cache["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"], cache["OPTIONS"]["SOCKET_TIMEOUT"]) \
        == (0.5, 1.0)


def test_gunicorn_with_an_unreachable_redis_keeps_answering(live_service, live_database_url,
                                                            fake_mal):
    fake_mal.add_user("newcomer", make_list(3))
    server = live_service(production_env(
        live_database_url, REDIS_URL=UNREACHABLE_REDIS, RATELIMIT_RATE="2/m",
        MAL_API_URL=fake_mal.url, MAL_CLIENT_ID=fake_mal.client_id), workers=2)

    for _ in range(4):  # over "2/m"
        page = requests.get(f"{server.url}/demo_user_001/recommendations", timeout=30)
        assert page.status_code == 200, page.text
        assert page.json()["data"]
    compare = requests.get(f"{server.url}/demo_user_001/compare/demo_user_002", timeout=30)
    assert compare.status_code == 200, compare.text

    fresh = requests.get(f"{server.url}/newcomer/similar", timeout=30)
    assert fresh.status_code == 503, fresh.text
    assert fresh.headers["Content-Type"] == "application/json"
    assert fresh.json()["id"] == "MALUnavailable" and fresh.headers["Retry-After"] == "5"
    assert fake_mal.requests() == []


@pytest.mark.django_db
@pytest.mark.parametrize("command, message", [
    (["update_airing_anime"], "MyAnimeList failed at anime 1"),
    (["update_old_users"], "stopped early: MALUnavailable at alice"),
])
def test_mal_commands_stop_cleanly_and_change_nothing(fake_mal, settings, command, message):
    from django.core.management import CommandError, call_command

    from recommendations.models import Anime

    fake_mal.add_user("alice", make_list(3))
    mal_user_sync(username="alice")
    stale = timezone.now() - dt.timedelta(days=10)
    type(mal_user_sync(username="alice").user).objects.update(list_synced_at=stale)
    Anime.objects.filter(id=1).update(airing_status="currently_airing", updated_at=stale)
    fake_mal.log.clear()
    _unreachable_cache(settings)
    before = stored_rows()

    with pytest.raises(CommandError, match=message):
        call_command(*command, stdout=io.StringIO(), stderr=io.StringIO())
    assert stored_rows() == before
    assert fake_mal.requests() == []
