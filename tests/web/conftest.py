"""Fixtures of the page's browser tests: one gunicorn service (DEBUG=0, the demo data, a
fake MyAnimeList) and one headless Chromium for each test module."""
import datetime as dt

import pytest

from tests.live import LiveServer, manage, production_env
from tests.mal.fake_mal import FakeMal, anime_json, list_item
from tests.web import browser as chromium

# Users the fake MAL knows, besides the demo users already in the database.
PRIVATE_USER = "private_person"
EMPTY_USER = "empty_person"
SLOW_USER = "slow_person"
DOWN_USER = "down_person"
SLOW_USER_SECONDS = 2.5


def _slow_user_list() -> list[dict]:
    """Anime outside the demo catalog (ids from 900001), so the demo data stays as it is."""
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    genres = [(1, 4), (8, 22), (10, 24), (37, 7), (30, 41)]
    return [list_item(anime_json(900_001 + i, genres=genres[i % 5], start_date=f"{2000 + i}-04-01"),
                      updated_at=start - dt.timedelta(minutes=i), score=5 + i % 6)
            for i in range(24)]


@pytest.fixture(scope="module")
def fake_mal_service():
    fake = FakeMal().start()
    fake.private.add(PRIVATE_USER)
    fake.add_user(EMPTY_USER, [])
    fake.add_user(SLOW_USER, _slow_user_list())
    fake.slow[f"/v2/users/{SLOW_USER}/"] = SLOW_USER_SECONDS
    fake.fail(f"/v2/users/{DOWN_USER}/", 500)
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def page_server(live_databases, static_root, fake_mal_service, tmp_path_factory):
    """The service as deployed (gunicorn, DEBUG=0, static files collected), on a fresh copy
    of the demo database."""
    if reason := chromium.missing_browser():
        pytest.skip(reason)
    url = live_databases.copy(demo=True)
    folder = tmp_path_factory.mktemp("page-server")
    env = production_env(url, STATIC_ROOT=str(static_root), MODEL_DIR=str(folder / "models"),
                         MAL_API_URL=fake_mal_service.url,
                         MAL_CLIENT_ID=fake_mal_service.client_id, MAL_MAX_RETRIES="0",
                         MAL_READ_TIMEOUT="10", MAL_REQUESTS_PER_SECOND="1000",
                         RATELIMIT_ENABLE="0", MAL_FETCH_RATE="1000/m")
    manage(env, "train_model", "-v0")  # the opt-in ranking, so that the switch is offered
    server = LiveServer(env, folder / "server.log", workers=2)
    try:
        yield server.start()
    finally:
        server.stop()
        live_databases.drop(url)


@pytest.fixture(scope="module")
def chrome(tmp_path_factory):
    if reason := chromium.missing_browser():
        pytest.skip(reason)
    driver = chromium.start_chromium(chromium.fresh_profile(tmp_path_factory.mktemp("chromium")))
    yield driver
    driver.quit()


@pytest.fixture
def browser(chrome, page_server, request):
    """The browser on a blank page of the service: desktop size, empty local storage."""
    chromium.set_viewport(chrome, chromium.DESKTOP, mobile=False)
    chrome.get(f"{page_server.url}/static/web/icon.svg")
    chrome.execute_script("window.localStorage.clear()")
    request.node.live_servers = [page_server]  # its log joins a failure's report
    return chrome
