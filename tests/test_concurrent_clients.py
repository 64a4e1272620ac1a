"""Several clients at once against the real server: on the embedded SQLite default under
runserver and gunicorn, and on the suite's database (PostgreSQL in CI) under gunicorn.

Reads, the neighbour lists they store and first fetches from MAL run side by side; no
request may fail because another one is writing.
"""
import itertools
import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.live import production_env
from tests.live_db import LiveDatabases
from tests.mal.conftest import make_list
from tests.mal.fake_mal import FakeMal, anime_json, list_item

CLIENTS = 8
REQUESTS_PER_CLIENT = 40
DEMO_USERS = 549
POLL_SECONDS = 0.2
# How long a change may take to reach every worker: its poll, with room for a busy machine.
SEEN_WITHIN_SECONDS = POLL_SECONDS + 5


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory):
    """The demo on a SQLite file (the embedded default), whatever the suite's database."""
    return LiveDatabases({"ENGINE": "django.db.backends.sqlite3"},
                         tmp_path_factory.mktemp("sqlite-live"))


@pytest.fixture
def fake_mal():
    fake = FakeMal().start()
    yield fake
    fake.stop()


def _env(database_url: str, fake: FakeMal) -> dict:
    return production_env(database_url, RATELIMIT_ENABLE="0", MAL_API_URL=fake.url,
                          MAL_CLIENT_ID=fake.client_id, MAL_REQUESTS_PER_SECOND="1000",
                          INDEX_POLL_SECONDS=str(POLL_SECONDS))


def _demo_paths(rng: random.Random) -> str:
    user, other = (f"demo_user_{rng.randint(1, DEMO_USERS):03d}" for _ in range(2))
    return rng.choice([
        f"/{user}/recommendations", f"/{user}/recommendations?batch=2&page=2",
        f"/{user}/similar", f"/{user}/similar?page=3", f"/{user}/random",
        f"/{user}/random?batch=4", f"/{user}/compare/{other}",
        f"/{user}/recommendations/{other}",
    ])


def _hammer(base: str, paths_of_client) -> list[tuple[int, str]]:
    """Every client's requests in parallel; (status, path) of each answer."""
    def client(paths):
        with requests.Session() as session:
            return [(session.get(base + path, timeout=60).status_code, path) for path in paths]

    with ThreadPoolExecutor(len(paths_of_client)) as pool:
        return list(itertools.chain.from_iterable(pool.map(client, paths_of_client)))


def _mixed_load(server_url: str, fake: FakeMal) -> list[tuple[int, str]]:
    """Demo users read by most clients while two clients fetch new users from MAL."""
    newcomers = [f"fresh_{i:02d}" for i in range(10)]
    for i, name in enumerate(newcomers):
        fake.add_user(name, make_list(30, first_id=1 + i * 7)
                      + [list_item(anime_json(90_000 + i), score=9)])
    readers = [[_demo_paths(random.Random(c * 1000 + r)) for r in range(REQUESTS_PER_CLIENT)]
               for c in range(CLIENTS - 2)]
    fetchers = [[f"/{name}/recommendations" for name in newcomers[c::2]] for c in range(2)]
    return _hammer(server_url, readers + fetchers)


def _failures(answers):
    return [(status, path) for status, path in answers if status != 200]


@pytest.mark.parametrize("server", ["runserver", "gunicorn"])
def test_parallel_clients_on_sqlite_get_no_errors(live_service, sqlite_databases, fake_mal,
                                                  server):
    url = sqlite_databases.copy(demo=True)
    live = live_service(_env(url, fake_mal), server=server)
    answers = _mixed_load(live.url, fake_mal)
    assert len(answers) == (CLIENTS - 2) * REQUESTS_PER_CLIENT + 10
    assert _failures(answers) == []


def test_parallel_clients_on_the_suite_database_get_no_errors(live_service, live_database_url,
                                                              fake_mal):
    live = live_service(_env(live_database_url, fake_mal), workers=2)
    assert _failures(_mixed_load(live.url, fake_mal)) == []


def _eventually(check, what: str):
    """``check()`` true within SEEN_WITHIN_SECONDS: another worker sees a change on its poll."""
    deadline = time.monotonic() + SEEN_WITHIN_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {SEEN_WITHIN_SECONDS} s: {what}")
        time.sleep(0.05)


def test_users_fetched_one_by_one_appear_in_every_earlier_users_lists_under_gunicorn(
        live_service, sqlite_databases, fake_mal):
    names = [f"grower_{i:02d}" for i in range(6)]
    for i, name in enumerate(names):
        fake_mal.add_user(name, make_list(20) + [list_item(anime_json(5000 + i), score=10)])
    live = live_service(_env(sqlite_databases.copy(demo=False), fake_mal), workers=2)
    session = requests.Session()

    def similar(name):
        return {u["username"] for u in session.get(f"{live.url}/{name}/similar").json()["data"]}

    def recommenders(name):
        data = session.get(f"{live.url}/{name}/recommendations").json()["data"]
        return {u["username"] for item in data for u in item["users"]}

    for count, newcomer in enumerate(names, start=1):
        assert session.get(f"{live.url}/{newcomer}/similar").status_code == 200
        for earlier in names[:count - 1]:
            others = set(names[:count]) - {earlier}
            _eventually(lambda: similar(earlier) == others, f"{newcomer} in {earlier}'s list")
            _eventually(lambda: recommenders(earlier) == others,
                        f"{newcomer} in {earlier}'s batch")
