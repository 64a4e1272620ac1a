"""Many clients at once asking for never-seen users, the way a launch day looks: gunicorn
with 4 workers on PostgreSQL and Redis, the fake MAL behind it.

50 threads ask for one never-seen user and 50 more for 50 different never-seen users, all
at the same moment: every one is answered without a 5xx, each user is stored once with
their whole list, MAL is asked for each list once, and the MAL request budget shared
through Redis holds across the 4 worker processes.
"""
import math
import threading

import pytest
import redis
import requests
from django.conf import settings
from django.db import connection

from reliability.load import busiest_window
from tests.live import production_env
from tests.mal.conftest import make_list
from tests.mal.fake_mal import FakeMal
from users.models import ListEntry, MalUser

WORKERS = 4
CLIENTS = 50
MAL_RATE = 5.0  # requests a second for the whole deployment
LIST_SIZE = 40
CLIENT_TIMEOUT = 120.0  # far above the expected time: only a hang reaches it


def redis_url() -> str | None:
    """The suite's Redis, when it is configured and answers."""
    if not settings.CACHES["default"]["BACKEND"].startswith("django_redis"):
        return None
    location = settings.CACHES["default"]["LOCATION"]
    try:
        redis.Redis.from_url(location, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return None
    return location


pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL (make test-postgres; CI runs it)"),
    pytest.mark.skipif(redis_url() is None, reason="needs Redis (REDIS_URL; CI runs it)"),
]


@pytest.fixture
def fake_mal_server():
    fake = FakeMal().start()
    yield fake
    fake.stop()


def ask_all_at_once(urls: list[str]) -> list[requests.Response | Exception]:
    """One thread per URL, released together by a barrier."""
    barrier = threading.Barrier(len(urls))
    answers: list = [None] * len(urls)

    def ask(number: int, url: str) -> None:
        barrier.wait()
        try:
            answers[number] = requests.get(url, timeout=CLIENT_TIMEOUT)
        except requests.RequestException as error:
            answers[number] = error

    threads = [threading.Thread(target=ask, args=(n, u)) for n, u in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_never_seen_users_asked_for_at_once_are_stored_once_within_the_budget(
        live_service, shared_database_url, fake_mal_server):
    fake = fake_mal_server
    fake.add_user("launch_day", make_list(LIST_SIZE))
    others = [f"newcomer_{n:02d}" for n in range(CLIENTS)]
    for number, name in enumerate(others):
        fake.add_user(name, make_list(LIST_SIZE, first_id=1 + number * 7))
    server = live_service(production_env(
        shared_database_url, REDIS_URL=redis_url(), MAL_API_URL=fake.url,
        MAL_CLIENT_ID=fake.client_id, MAL_REQUESTS_PER_SECOND=str(MAL_RATE),
        # Every client here is 127.0.0.1, and all 100 are to be served: no per-client
        # allowance of MAL-costing requests, no bound on first fetches in flight.
        RATELIMIT_RATE="10000/m", MAL_FETCH_RATE="10000/m", MAL_CONCURRENT_FETCHES="0"),
        workers=WORKERS)

    urls = [f"{server.url}/launch_day/similar"] * CLIENTS + \
        [f"{server.url}/{name}/recommendations" for name in others]
    answers = ask_all_at_once(urls)

    failures = [a if isinstance(a, Exception) else (a.status_code, a.text[:200])
                for a in answers if isinstance(a, Exception) or a.status_code != 200]
    assert failures == []
    same = {a.json()["requester"]["hash"] for a in answers[:CLIENTS]}
    assert len(same) == 1
    for name in ["launch_day", *others]:
        assert MalUser.objects.filter(username=name).count() == 1
        assert ListEntry.objects.filter(user__username=name).count() == LIST_SIZE
        assert len(fake.requests(f"/v2/users/{name}/animelist")) == 1
    # The budget spaces request starts 1 / MAL_RATE apart across all workers; one request
    # may reach the fake late, in the next window (scheduling), hence the + 1.
    with fake.lock:
        arrivals = [t for t, _ in fake.log]
    assert busiest_window(arrivals, 1.0) <= math.ceil(MAL_RATE) + 1
    assert busiest_window(arrivals, 5.0) <= math.ceil(5 * MAL_RATE) + 1
