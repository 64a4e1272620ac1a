"""MyAnimeList cannot hold the service: users MAL says do not exist are remembered, each
client may cost only so many MAL calls, and the deployment runs a bounded number of first
fetches at once, so every other route keeps answering while MAL is slow."""
import datetime as dt
import threading

import pytest
import requests
from django.utils import timezone

from reko import cache_locks
from tests.live import production_env
from tests.mal.conftest import make_list
from tests.mal.test_sync import error_of
from tests.helpers import json_ok
from users import fetch_limits
from users.models import MalUser

pytestmark = pytest.mark.django_db


def test_a_user_mal_says_does_not_exist_is_not_asked_for_again_at_once(fake_mal, api, settings):
    settings.MAL_NOT_FOUND_CACHE_SECONDS = 300
    for _ in range(3):
        error_of(api.get("/ghost_user/similar"), 404, "UserNotFound")
    assert len(fake_mal.requests("/v2/users/ghost_user/")) == 1
    fake_mal.add_user("ghost_user", make_list(3))  # created on MAL meanwhile
    settings.MAL_NOT_FOUND_CACHE_SECONDS = 0
    fetch_limits.cache.delete(fetch_limits.NOT_FOUND_KEY.format("ghost_user"))
    json_ok(api.get("/ghost_user/similar"))
    assert len(fake_mal.requests("/v2/users/ghost_user/")) == 2


def test_without_a_negative_cache_every_request_asks_mal(fake_mal, api, settings):
    settings.MAL_NOT_FOUND_CACHE_SECONDS = 0
    for _ in range(2):
        error_of(api.get("/ghost_user/similar"), 404, "UserNotFound")
    assert len(fake_mal.requests("/v2/users/ghost_user/")) == 2


@pytest.fixture
def client_limits(settings):
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_RATE = "1000/m"
    settings.MAL_FETCH_RATE = "2/m"


def test_a_client_may_cost_only_so_many_mal_calls(fake_mal, api, client_limits):
    for name in ("new_one", "new_two", "new_three"):
        fake_mal.add_user(name, make_list(3))
    json_ok(api.get("/new_one/similar"))
    json_ok(api.get("/new_two/compare/new_one"))
    response = api.get("/new_three/similar")
    body = error_of(response, 503, "MALRateLimited")
    assert "new here" in body["message"] and 1 <= int(response["Retry-After"]) <= 60
    assert fake_mal.requests("/v2/users/new_three/") == []
    assert not MalUser.objects.filter(username="new_three").exists()
    # Users stored already cost nothing and are still served to this client...
    json_ok(api.get("/new_one/compare/new_two"))
    # ...and another client has its own allowance.
    json_ok(api.get("/new_three/similar", REMOTE_ADDR="10.1.2.3"))


def test_a_client_over_its_allowance_gets_a_stale_list_from_the_stored_copy(
        fake_mal, api, client_limits):
    fake_mal.add_user("old_timer", make_list(3))
    fake_mal.add_user("new_one", make_list(2))
    fake_mal.add_user("new_two", make_list(2))
    json_ok(api.get("/old_timer/similar"))
    MalUser.objects.filter(username="old_timer").update(
        list_synced_at=timezone.now() - dt.timedelta(days=30))
    json_ok(api.get("/new_one/similar"))  # the second and last MAL-costing request
    calls = len(fake_mal.requests("/v2/users/old_timer/"))
    body = json_ok(api.get("/old_timer/similar"))
    assert body["requester"]["username"] == "old_timer"
    assert len(fake_mal.requests("/v2/users/old_timer/")) == calls  # not refreshed


def test_beyond_the_concurrent_first_fetches_a_new_user_is_a_503_at_once(
        fake_mal, api, settings):
    settings.MAL_CONCURRENT_FETCHES = 2
    fake_mal.add_user("new_one", make_list(2))
    slots = cache_locks.Slots(fetch_limits.FETCH_SLOTS, 2, timeout=60)
    held = [slots.take() for _ in range(2)]  # two fetches in flight elsewhere
    response = api.get("/new_one/similar")
    body = error_of(response, 503, "MALUnavailable")
    assert response["Retry-After"] == str(fetch_limits.SLOTS_FULL_RETRY_AFTER)
    assert "fetched from MyAnimeList right now" in body["message"]
    assert fake_mal.requests("/v2/users/") == []
    cache_locks.release(*held[0])
    json_ok(api.get("/new_one/similar"))
    # The slot was given back: another first fetch gets it.
    fake_mal.add_user("new_two", make_list(2))
    json_ok(api.get("/new_two/similar"))


def test_slots_count_holders_across_the_cache():
    slots = cache_locks.Slots("test:slots", 3, timeout=60)
    held = [slots.take() for _ in range(3)]
    with pytest.raises(cache_locks.SlotsFull):
        slots.take()
    assert cache_locks.release(*held[1])
    assert not cache_locks.release(*held[1])  # already given back
    again = slots.take()
    assert again[0] == held[1][0] and again[1] != held[1][1]


def test_a_lock_is_released_only_by_its_holder():
    assert cache_locks.acquire("test:lock", "mine", timeout=60)
    assert not cache_locks.acquire("test:lock", "theirs", timeout=60)
    assert not cache_locks.release("test:lock", "theirs")
    fetch_limits.cache.delete("test:lock")  # as if it expired...
    assert cache_locks.acquire("test:lock", "theirs", timeout=60)  # ...and another took it
    assert not cache_locks.release("test:lock", "mine")  # the late holder leaves it alone
    assert fetch_limits.cache.get("test:lock") == "theirs"


def test_releasing_is_one_step_even_if_the_lock_changes_hands_meanwhile(monkeypatch, settings):
    """The old release read the token, then deleted the key: a lock that expired and was
    taken by another process between the two was deleted from under its new holder."""
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        pytest.skip("on Redis the release is one server-side script; no read to interleave")
    cache = fetch_limits.cache
    assert cache_locks.acquire("test:lock", "mine", timeout=60)
    real_get = cache.get
    other = threading.Thread(target=lambda: (cache.delete("test:lock"),
                                             cache_locks.acquire("test:lock", "theirs",
                                                                 timeout=60)))

    def get_then_let_another_in(key, *args, **kwargs):
        value = real_get(key, *args, **kwargs)
        if key == "test:lock" and not other.is_alive() and other.ident is None:
            other.start()
            other.join(0.3)  # the other process's turn, if nothing holds it off
        return value

    monkeypatch.setattr(cache, "get", get_then_let_another_in)
    cache_locks.release("test:lock", "mine")
    other.join()
    monkeypatch.undo()
    assert cache.get("test:lock") == "theirs"


# --- a slow MAL under gunicorn ---------------------------------------------------------

def test_other_routes_keep_answering_while_mal_holds_first_fetches(
        fake_mal, live_service, live_database_url):
    """One gthread worker with 3 threads, at most 2 first fetches at once: while MAL holds
    them, further new users are turned away at once and every other route answers."""
    for number in range(4):
        fake_mal.add_user(f"slow_new_{number}", make_list(2))
    fake_mal.hold("/v2/users/slow_new_")
    server = live_service(production_env(
        live_database_url, MAL_API_URL=fake_mal.url, MAL_CLIENT_ID=fake_mal.client_id,
        MAL_CONCURRENT_FETCHES="2", MAL_READ_TIMEOUT="60", RATELIMIT_ENABLE="0",
    ), workers=1, threads=3)
    results = {}

    def first_request(name):
        results[name] = requests.get(f"{server.url}/{name}/similar", timeout=90)

    fetching = [threading.Thread(target=first_request, args=(f"slow_new_{n}",))
                for n in range(2)]
    try:
        for thread in fetching:
            thread.start()
        fake_mal.wait_until_holding(2)
        # Both slots are taken and MAL holds them: the service still answers.
        turned_away = requests.get(f"{server.url}/slow_new_2/similar", timeout=10)
        assert turned_away.status_code == 503 and turned_away.json()["id"] == "MALUnavailable"
        assert turned_away.headers["Retry-After"] == str(fetch_limits.SLOTS_FULL_RETRY_AFTER)
        assert requests.get(f"{server.url}/version", timeout=10).text == "1.0.0"
        known = requests.get(f"{server.url}/demo_user_001/similar", timeout=10)
        assert known.status_code == 200 and known.json()["data"]
    finally:
        fake_mal.let_go()
        for thread in fetching:
            thread.join(90)
    assert [results[f"slow_new_{n}"].status_code for n in range(2)] == [200, 200]
    assert requests.get(f"{server.url}/slow_new_3/similar", timeout=30).status_code == 200
