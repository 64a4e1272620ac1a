"""The MAL client against the fake MAL over a real socket (issue 3)."""
import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.cache import cache

from tests.mal.clock import SimulatedClock, most_in_window, record_request_starts
from tests.mal.conftest import T0, make_list
from tests.mal.fake_mal import anime_json, list_item
from users import mal_client


def test_it_follows_paging_over_2500_entries_with_the_client_id(fake_mal):
    fake_mal.add_user("Longlist", make_list(2500))

    entries = mal_client.user_animelist("longlist")

    assert len(entries) == 2500
    assert len({e.anime.id for e in entries}) == 2500
    assert [e.updated_at for e in entries] == sorted((e.updated_at for e in entries), reverse=True)
    pages = fake_mal.requests("/v2/users/longlist/animelist")
    assert len(pages) == 3
    assert "sort=list_updated_at" in pages[0] and "nsfw=1" in pages[0] and "limit=1000" in pages[0]
    assert "offset=2000" in pages[2]


def test_it_reads_node_fields_and_list_status(fake_mal):
    anime = anime_json(5, genres=(1, 62), start_date="2019-07", num_episodes=24, rating="r",
                       mean=8.25, status="currently_airing", media_type="ona")
    fake_mal.add_user("bob", [list_item(anime, status="watching", score=0, episodes=3,
                                        updated_at=T0)])

    [entry] = mal_client.user_animelist("bob")

    assert entry.status == "watching" and entry.score == 0 and entry.episodes_watched == 3
    assert entry.updated_at == T0
    assert entry.anime == mal_client.MalAnime(
        id=5, title="Anime 5", start_date=dt.date(2019, 7, 1), episodes=24, mean=8.25,
        rating="r", picture="https://cdn.example/5.jpg", airing_status="currently_airing",
        media_type="ona", genres=(1, 62))


@pytest.mark.parametrize("text,expected", [
    ("2001", dt.date(2001, 1, 1)), ("2001-04", dt.date(2001, 4, 1)),
    ("2001-04-03", dt.date(2001, 4, 3)), (None, None), ("", None),
])
def test_it_reads_start_dates_of_every_precision(text, expected):
    assert mal_client.parse_start_date(text) == expected


def test_it_rejects_a_start_date_that_is_not_one():
    with pytest.raises(mal_client.MalInvalidResponse, match="start_date"):
        mal_client.parse_start_date("April 2001")


def test_incremental_fetch_stops_paging_at_older_entries(fake_mal):
    items = make_list(2500)
    fake_mal.add_user("longlist", items)

    entries = mal_client.user_animelist("longlist", updated_since=T0 - dt.timedelta(minutes=4))

    assert [e.anime.id for e in entries] == [1, 2, 3, 4, 5]
    assert len(fake_mal.requests("/v2/users/")) == 1


def test_it_gets_anime_details_and_parent(fake_mal):
    fake_mal.anime[30] = anime_json(30, related=[(10, "sequel"), (21, "prequel"),
                                                 (5, "side_story")])
    fake_mal.anime[31] = anime_json(31, related=[(30, "prequel"), (2, "parent_story")])
    fake_mal.anime[32] = anime_json(32, related=[(33, "sequel"), (34, "spin_off")])

    assert mal_client.anime_details(30).parent_id == 21
    assert mal_client.anime_details(31).parent_id == 2
    assert mal_client.anime_details(32).parent_id is None
    assert "related_anime" in fake_mal.requests("/v2/anime/30")[0]


@pytest.mark.parametrize("status,error", [
    (404, mal_client.MalUserNotFound), (403, mal_client.MalForbidden),
    (401, mal_client.MalUnavailable),
])
def test_it_names_client_errors_without_retrying(fake_mal, status, error):
    fake_mal.fail("/v2/users/carol", status)

    with pytest.raises(error):
        mal_client.user_animelist("carol")
    assert len(fake_mal.requests()) == 1


def test_unknown_and_private_users_of_the_fake(fake_mal):
    fake_mal.private.add("hidden")
    with pytest.raises(mal_client.MalForbidden):
        mal_client.user_animelist("hidden")
    with pytest.raises(mal_client.MalUserNotFound):
        mal_client.user_animelist("nobody")


def test_it_retries_429_honouring_retry_after_then_succeeds(fake_mal, settings, monkeypatch):
    settings.MAL_REQUESTS_PER_SECOND = 0  # no budget: the only sleeps are the retries'
    clock = SimulatedClock(1_000_000.0)
    monkeypatch.setattr(mal_client, "time", clock)
    fake_mal.add_user("bob", make_list(3))
    fake_mal.fail("/v2/users/bob", 429, times=2, retry_after=1)

    assert len(mal_client.user_animelist("bob")) == 3

    assert len(fake_mal.requests()) == 3
    # Retry-After (1 s) outweighs the backoff (0.01 s, then 0.02 s) both times.
    assert clock.sleeps == [1, 1]


def test_it_gives_up_at_once_on_a_long_retry_after(fake_mal, settings):
    fake_mal.fail("/v2/users/bob", 429, retry_after=600)

    with pytest.raises(mal_client.MalRateLimited) as caught:
        mal_client.user_animelist("bob")
    assert caught.value.retry_after == 600
    assert len(fake_mal.requests()) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_it_retries_server_errors_a_bounded_number_of_times(fake_mal, settings, status):
    fake_mal.fail("/v2/users/bob", status)

    with pytest.raises(mal_client.MalUnavailable):
        mal_client.user_animelist("bob")
    assert len(fake_mal.requests()) == settings.MAL_MAX_RETRIES + 1


def test_a_timeout_is_retried_then_reported(fake_mal, settings):
    settings.MAL_READ_TIMEOUT = 0.2
    settings.MAL_MAX_RETRIES = 1
    fake_mal.add_user("slowpoke", make_list(1))
    fake_mal.slow["/v2/users/slowpoke"] = 1.0

    with pytest.raises(mal_client.MalUnavailable, match="in time"):
        mal_client.user_animelist("slowpoke")
    assert len(fake_mal.requests()) == 2


def test_a_refused_connection_is_unavailable(settings):
    settings.MAL_API_URL = "http://127.0.0.1:9/v2"  # discard port: nothing listens
    settings.MAL_CLIENT_ID = "x"
    settings.MAL_MAX_RETRIES = 1
    settings.MAL_RETRY_BACKOFF_SECONDS = 0.01
    settings.MAL_REQUESTS_PER_SECOND = 1000.0

    with pytest.raises(mal_client.MalUnavailable):
        mal_client.anime_details(1)


def test_a_body_that_is_not_json_is_unavailable(fake_mal):
    fake_mal.fail("/v2/anime/1", 200, body=b"<html>maintenance</html>")

    with pytest.raises(mal_client.MalUnavailable, match="not JSON"):
        mal_client.anime_details(1)


def test_malformed_list_data_is_an_invalid_response(fake_mal):
    item = list_item(anime_json(1))
    item["list_status"]["status"] = "binged"
    fake_mal.add_user("bob", [item])

    with pytest.raises(mal_client.MalInvalidResponse, match="list_status.status"):
        mal_client.user_animelist("bob")


def test_it_never_follows_paging_outside_the_api(fake_mal):
    fake_mal.add_user("bob", make_list(2))
    original = fake_mal._animelist

    def leaking(name, query):
        status, headers, body = original(name, query)
        body["paging"]["next"] = "https://evil.example/v2/users/bob/animelist?offset=1"
        return status, headers, body

    fake_mal._animelist = leaking
    with pytest.raises(mal_client.MalInvalidResponse, match="outside"):
        mal_client.user_animelist("bob")


def test_it_refuses_to_call_without_a_client_id(settings):
    settings.MAL_CLIENT_ID = ""
    with pytest.raises(mal_client.MalNotConfigured):
        mal_client.anime_details(1)


def test_threads_share_the_request_budget(fake_mal, settings, monkeypatch):
    settings.MAL_REQUESTS_PER_SECOND = 10.0
    # Frozen mid-slot: every request waits for a slot of its own, 0.1 s apart.
    clock = SimulatedClock(1_000_000.05)
    monkeypatch.setattr(mal_client, "time", clock)
    starts = record_request_starts(monkeypatch, clock)
    fake_mal.anime[1] = anime_json(1)

    def work():
        for _ in range(5):
            mal_client.anime_details(1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(fake_mal.requests()) == 20
    assert sorted(starts) == pytest.approx([1_000_000.1 + k / 10 for k in range(20)])
    assert most_in_window(starts, 1.0) == 10


@pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                    reason="processes share the budget through Redis; REDIS_URL is not set")
def test_two_processes_share_the_budget(fake_mal):
    """The deployment-wide budget (2.5/s by default) holds across processes (issue 3):
    two processes starting at the same (simulated) moment get interleaved slots."""
    fake_mal.anime[1] = anime_json(1)
    env = {**os.environ, "MAL_API_URL": fake_mal.url, "MAL_CLIENT_ID": fake_mal.client_id,
           "MAL_REQUESTS_PER_SECOND": "2.5", "DJANGO_SETTINGS_MODULE": "reko.settings"}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    worker = Path(__file__).with_name("budget_worker.py")
    start = 2_000_000.1  # mid-slot of 0.4 s: slots from 2,000,000.4 on
    processes = [subprocess.Popen([sys.executable, str(worker), str(start), "6"], env=env,
                                  cwd=root, stdout=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0]

    starts = [t for output in outputs for t in json.loads(output)]
    assert len(fake_mal.requests()) == 12
    assert sorted(starts) == pytest.approx([2_000_000.4 + k * 0.4 for k in range(12)])
    assert most_in_window(starts, 1.0) == 3  # ceil(2.5)


def test_it_answers_rate_limited_rather_than_queue_too_long(settings, monkeypatch):
    settings.MAL_REQUESTS_PER_SECOND = 100.0
    settings.MAL_BUDGET_MAX_WAIT_SECONDS = 0.05
    clock = SimulatedClock(1_000_000.0)
    monkeypatch.setattr(mal_client, "time", clock)
    for slot in range(100_000_000, 100_000_000 + 200):  # others hold the next two seconds
        cache.add(mal_client.BUDGET_KEY.format(100.0, slot), 1)

    with pytest.raises(mal_client.MalRateLimited) as caught:
        mal_client.budget_take()
    assert caught.value.retry_after == 1
    assert clock.sleeps == []  # refused at once, without waiting


def test_an_entry_seen_twice_while_paging_is_kept_once(fake_mal):
    items = make_list(1500)
    fake_mal.add_user("busy", items)
    original = fake_mal._animelist

    def moving(name, query):  # the user touches entry 1 between our two pages
        status, headers, body = original(name, query)
        if query.get("offset") == ["1000"]:
            body["data"][-1] = {"node": items[0]["node"], "list_status": items[0]["list_status"]}
        return status, headers, body

    fake_mal._animelist = moving
    entries = mal_client.user_animelist("busy")

    assert len(entries) == 1499 and len({e.anime.id for e in entries}) == 1499


def test_a_list_is_read_for_at_most_the_page_limit(fake_mal, settings, monkeypatch):
    monkeypatch.setattr(mal_client, "LIST_PAGE_SIZE", 10)
    settings.MAL_MAX_LIST_PAGES = 3
    fake_mal.add_user("endless", make_list(45))

    entries = mal_client.user_animelist("endless")

    assert len(fake_mal.requests("/v2/users/endless/animelist")) == 3
    assert len(entries) == 30  # the 30 most recently updated entries
    assert max(e.updated_at for e in entries) == T0


def test_a_paging_loop_stops_at_the_page_limit(fake_mal, settings):
    settings.MAL_MAX_LIST_PAGES = 4
    fake_mal.add_user("loop", make_list(2))
    original = fake_mal._animelist

    def looping(name, query):  # always the same page, always a next one
        status, headers, body = original(name, query)
        same = urlencode({key: values[0] for key, values in query.items()})
        body["paging"]["next"] = f"{fake_mal.url}/users/loop/animelist?{same}"
        return status, headers, body

    fake_mal._animelist = looping
    assert len(mal_client.user_animelist("loop")) == 2
    assert len(fake_mal.requests("/v2/users/loop/animelist")) == 4


@pytest.mark.parametrize("header, expected", [
    ("inf", None), ("-inf", None), ("nan", None), ("1e400", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", None), ("", None), ("-5", 0), ("2.5", 3),
    ("99999999", mal_client.RETRY_AFTER_MAX_SECONDS),
])
def test_retry_after_from_mal_is_read_safely(header, expected):
    assert mal_client._retry_after(header) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["inf", "1e400", "nan", "99999999"])
def test_a_junk_retry_after_from_mal_is_a_clean_503(fake_mal, settings, header):
    from rest_framework.test import APIClient

    fake_mal.fail("/v2/users/bob", 503, retry_after=header)
    response = APIClient().get("/bob/similar")

    assert response.status_code == 503, response.content
    assert response.json()["id"] == "MALUnavailable"
    retry_after = response.get("Retry-After")
    assert retry_after is None or 0 <= int(retry_after) <= mal_client.RETRY_AFTER_MAX_SECONDS


@pytest.mark.django_db
@pytest.mark.parametrize("mangle", ["paging", "start_date", "status"])
def test_nothing_mal_wrote_reaches_the_client(fake_mal, mangle):
    from rest_framework.test import APIClient

    fake_mal.add_user("bob", make_list(2))
    original = fake_mal._animelist
    planted = "https://evil.example/steal?token=PLANTED"

    def mangled(name, query):
        status, headers, body = original(name, query)
        if mangle == "paging":
            body["paging"]["next"] = planted
        elif mangle == "start_date":
            body["data"][0]["node"]["start_date"] = planted
        else:
            body["data"][0]["list_status"]["status"] = planted
        return status, headers, body

    fake_mal._animelist = mangled
    response = APIClient().get("/bob/similar")

    assert response.status_code == 422
    assert response.json() == {"code": 422, "id": "InvalidUserList",
                               "message": "This user's anime list could not be read."}
