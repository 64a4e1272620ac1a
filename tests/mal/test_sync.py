"""Fetching and refreshing users through the API routes, against the fake MAL (issue 3)."""
import datetime as dt
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from recommendations.models import Anime
from tests.mal.conftest import T0, make_list
from tests.helpers import stored_rows
from tests.mal.expected import expected_hash, expected_similarity
from tests.mal.fake_mal import anime_json, list_item
from users.models import ListEntry, MalUser
from users.sync import LOCK_KEY, mal_user_sync, user_for_request

pytestmark = pytest.mark.django_db


def error_of(response, status: int, error_id: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == status and body["id"] == error_id and body["message"]
    return body


def snapshot() -> tuple:
    """Everything a failed sync must leave as it was."""
    return (list(MalUser.objects.order_by("id").values()),
            list(ListEntry.objects.order_by("id").values()),
            list(Anime.objects.order_by("id").values()))


def stored_user(name: str, *, synced_days_ago: float, full_days_ago: float | None = None,
                fake=None, items=None) -> MalUser:
    """A user stored by a real first fetch, then aged."""
    fake.add_user(name, items if items is not None else make_list(5))
    user = mal_user_sync(username=name).user
    synced = timezone.now() - dt.timedelta(days=synced_days_ago)
    full = timezone.now() - dt.timedelta(days=full_days_ago if full_days_ago is not None
                                         else synced_days_ago)
    MalUser.objects.filter(id=user.id).update(list_synced_at=synced, full_synced_at=full)
    user.refresh_from_db()
    return user


def test_a_new_user_is_fetched_whole_on_their_first_request(fake_mal, api):
    fake_mal.add_user("NewComer", make_list(2500))

    response = api.get("/NewComer/similar")

    assert response.status_code == 200, response.content
    user = MalUser.objects.get(username="newcomer")
    hash_hex = format(expected_hash(fake_mal.lists["newcomer"]), "02x")
    assert response.json()["requester"] == {"username": "newcomer", "hash": hash_hex}
    assert ListEntry.objects.filter(user=user).count() == 2500
    assert user.hash == expected_hash(fake_mal.lists["newcomer"])
    assert user.list_synced_at and user.full_synced_at
    assert len(fake_mal.requests("/v2/users/newcomer/animelist")) == 3


def test_node_fields_create_catalog_rows_that_the_hash_counts(fake_mal):
    anime = anime_json(77, title="Fresh", genres=(1, 62), start_date="2021", num_episodes=13,
                       rating="r", mean=8.1, status="currently_airing", media_type="ona")
    fake_mal.add_user("bob", [list_item(anime, score=9)])

    user = user_for_request("bob", refresh=True)

    row = Anime.objects.get(id=77)
    assert (row.title, row.start_date, row.episodes, row.rating, row.mean, row.genres,
            row.airing_status, row.media_type, row.picture) == (
        "Fresh", dt.date(2021, 1, 1), 13, "r", 8.1, [1, 62], "currently_airing", "ona",
        "https://cdn.example/77.jpg")
    assert row.relations_checked_at is None  # request_missing_anime reads its relations
    # Scored 9: slots 1 (13 eps), 3 (Action), 7 (r), 9 (2018+) and 30 (Isekai) hold 10,
    # their right neighbours 0: bits 1, 3, 7, 9 and 30 from the top.
    assert user.hash == 0x5140_0002_0000_0000 == expected_hash(fake_mal.lists["bob"])


def test_known_anime_rows_are_not_rewritten_by_a_list(fake_mal):
    Anime.objects.create(id=1, title="Curated", mean=9.0, genres=[8])
    fake_mal.add_user("bob", make_list(2))

    user_for_request("bob", refresh=True)

    assert Anime.objects.get(id=1).title == "Curated"
    assert Anime.objects.get(id=2).title == "Anime 2"


def test_a_stale_user_is_refreshed_incrementally(fake_mal, api):
    user = stored_user("alice", synced_days_ago=4, full_days_ago=10, fake=fake_mal,
                       items=make_list(2500))
    before_full = user.full_synced_at
    items = fake_mal.lists["alice"]
    items[3]["list_status"].update(score=10, updated_at=(T0 + dt.timedelta(hours=1)).isoformat())
    # An Isekai show (slot 30, empty so far): it sets a bit of its own.
    items.append(list_item(anime_json(9000, genres=(62,)), score=7,
                           updated_at=T0 + dt.timedelta(hours=2)))
    fake_mal.log.clear()

    response = api.get("/alice/recommendations")

    assert response.status_code == 200, response.content
    assert len(fake_mal.requests()) == 1  # older entries appeared on the first page
    assert ListEntry.objects.filter(user=user).count() == 2501
    assert ListEntry.objects.get(user=user, anime_id=4).score == 10
    assert Anime.objects.filter(id=9000).exists()
    user.refresh_from_db()
    assert user.full_synced_at == before_full
    assert timezone.now() - user.list_synced_at < dt.timedelta(minutes=1)
    assert user.hash == expected_hash(items) == expected_hash(make_list(2500)) | 1 << 33


def test_a_fresh_user_is_not_refreshed(fake_mal, api):
    stored_user("alice", synced_days_ago=1, fake=fake_mal)
    fake_mal.log.clear()

    assert api.get("/alice/similar").status_code == 200
    assert fake_mal.requests() == []


def test_a_full_resync_drops_entries_deleted_on_mal(fake_mal):
    user = stored_user("alice", synced_days_ago=4, full_days_ago=31, fake=fake_mal)
    del fake_mal.lists["alice"][1]

    user_for_request("alice", refresh=True)

    assert sorted(ListEntry.objects.filter(user=user).values_list("anime_id", flat=True)) == [
        1, 3, 4, 5]
    user.refresh_from_db()
    assert timezone.now() - user.full_synced_at < dt.timedelta(minutes=1)


def test_the_other_user_is_fetched_if_unknown_but_never_refreshed(fake_mal, api):
    stored_user("alice", synced_days_ago=0, fake=fake_mal)
    stored_user("carol", synced_days_ago=40, fake=fake_mal, items=make_list(5, first_id=3))
    fake_mal.add_user("dave", make_list(4, first_id=2))
    fake_mal.log.clear()

    assert api.get("/alice/compare/carol").status_code == 200
    assert fake_mal.requests() == []
    assert api.get("/alice/recommendations/dave").status_code == 200
    assert len(fake_mal.requests("/v2/users/dave/")) == 1
    assert MalUser.objects.filter(username="dave").exists()


@pytest.mark.parametrize("setup,status,error_id", [
    (lambda fake: fake.private.add("target"), 403, "PrivateUserList"),
    (lambda fake: None, 404, "UserNotFound"),
])
def test_private_and_unknown_users_are_errors_and_forgotten(fake_mal, api, setup, status,
                                                            error_id):
    stored_user("target", synced_days_ago=5, fake=fake_mal)
    del fake_mal.lists["target"]
    setup(fake_mal)

    error_of(api.get("/target/similar"), status, error_id)

    assert not MalUser.objects.filter(username="target").exists()
    assert not ListEntry.objects.exists()


@pytest.mark.parametrize("setup,status,error_id", [
    (lambda fake: fake.private.add("nobody"), 403, "PrivateUserList"),
    (lambda fake: None, 404, "UserNotFound"),
])
def test_unknown_private_or_missing_users_are_not_stored(fake_mal, api, setup, status, error_id):
    stored_user("alice", synced_days_ago=1, fake=fake_mal)
    setup(fake_mal)
    before = stored_rows()

    error_of(api.get("/nobody/random"), status, error_id)
    assert stored_rows() == before


@pytest.mark.parametrize("items", [
    [], [list_item(anime_json(1), status="plan_to_watch", score=0, episodes=0)],
    [list_item(anime_json(1), status="watching", score=0, episodes=0)],
], ids=["empty", "plan-to-watch", "watching-nothing-seen"])
def test_a_list_with_nothing_watched_is_422_and_not_kept(fake_mal, api, items):
    fake_mal.add_user("lazy", items)

    error_of(api.get("/lazy/recommendations"), 422, "EmptyUserList")

    assert not MalUser.objects.exists() and not ListEntry.objects.exists()
    assert not Anime.objects.exists()


def test_a_known_list_emptied_on_mal_is_422_and_forgotten(fake_mal, api):
    stored_user("alice", synced_days_ago=4, full_days_ago=40, fake=fake_mal)
    fake_mal.lists["alice"] = []

    error_of(api.get("/alice/similar"), 422, "EmptyUserList")
    assert not MalUser.objects.filter(username="alice").exists()


def test_a_429_then_success_answers_normally(fake_mal, api):
    fake_mal.add_user("bob", make_list(3))
    fake_mal.fail("/v2/users/bob", 429, times=1, retry_after=1)

    assert api.get("/bob/similar").status_code == 200
    assert len(fake_mal.requests()) == 2


def test_persistent_500_is_a_json_503_for_a_new_user(fake_mal, api):
    fake_mal.add_user("bob", make_list(3))
    fake_mal.fail("/v2/users/bob", 500)

    error_of(api.get("/bob/similar"), 503, "MALUnavailable")
    assert not MalUser.objects.exists() and not Anime.objects.exists()


def test_persistent_500_serves_a_known_user_from_the_stored_copy(fake_mal, api, settings):
    stored_user("alice", synced_days_ago=4, fake=fake_mal)
    fake_mal.lists["alice"].append(list_item(anime_json(99), updated_at=T0 + dt.timedelta(days=1)))
    fake_mal.fail("/v2/users/alice", 500)
    before = snapshot()
    fake_mal.log.clear()

    response = api.get("/alice/similar")

    assert response.status_code == 200
    assert snapshot() == before
    assert len(fake_mal.requests("/v2/users/alice")) == settings.MAL_MAX_RETRIES + 1 == 3


def test_throttling_after_retries_is_a_json_503_with_retry_after(fake_mal, api):
    fake_mal.add_user("bob", make_list(3))
    fake_mal.fail("/v2/users/bob", 429, retry_after=120)
    before = stored_rows()

    response = api.get("/bob/similar")
    error_of(response, 503, "MALRateLimited")
    assert response["Retry-After"] == "120"
    assert stored_rows() == before


def test_a_timeout_is_a_json_503_and_a_known_user_is_still_served(fake_mal, api, settings):
    settings.MAL_READ_TIMEOUT = 0.2
    settings.MAL_MAX_RETRIES = 0
    fake_mal.add_user("slowpoke", make_list(2))
    before_any = stored_rows()
    fake_mal.slow["/v2/users/"] = 1.0
    error_of(api.get("/slowpoke/similar"), 503, "MALUnavailable")
    assert stored_rows() == before_any

    fake_mal.slow.clear()
    stored_user("alice", synced_days_ago=4, fake=fake_mal)
    fake_mal.slow["/v2/users/"] = 1.0
    fake_mal.log.clear()
    before = snapshot()  # the user's rows (serving them stores a neighbour snapshot)
    assert api.get("/alice/similar").status_code == 200
    assert snapshot() == before
    assert len(fake_mal.requests("/v2/users/alice")) == 1  # the refresh was tried


def test_an_unreadable_list_is_422(fake_mal, api):
    item = list_item(anime_json(1))
    item["list_status"]["score"] = 11
    fake_mal.add_user("bob", [item])

    error_of(api.get("/bob/similar"), 422, "InvalidUserList")
    assert not MalUser.objects.exists()


def test_without_a_client_id_new_users_get_503_and_known_ones_are_served(fake_mal, api,
                                                                           settings):
    stored_user("alice", synced_days_ago=40, fake=fake_mal)
    settings.MAL_CLIENT_ID = ""
    fake_mal.log.clear()

    body = error_of(api.get("/bob/similar"), 503, "MALUnavailable")
    assert "MAL_CLIENT_ID" in body["message"]
    assert api.get("/alice/similar").status_code == 200
    assert fake_mal.requests() == []


def test_a_failure_while_storing_leaves_the_stored_copy(fake_mal, api, monkeypatch):
    from reko.exceptions import HashFailed
    from users import services

    stored_user("alice", synced_days_ago=4, fake=fake_mal)
    fake_mal.lists["alice"].append(list_item(anime_json(99), updated_at=T0 + dt.timedelta(days=1)))
    before = snapshot()

    def broken(user):
        raise HashFailed()

    monkeypatch.setattr(services, "user_hash", broken)
    error_of(api.get("/alice/similar"), 500, "HashFailed")
    assert snapshot() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL: two threads write at once, which the SQLite "
                           "test database cannot share between threads")
def test_two_concurrent_first_requests_make_one_fetch_and_one_user(fake_mal):
    fake_mal.add_user("popular", make_list(1500))
    fake_mal.slow["/v2/users/popular"] = 0.3  # keep the first fetch in flight
    barrier = threading.Barrier(2)
    results, errors = [], []

    def request():
        from django.db import connections
        try:
            barrier.wait()
            results.append(user_for_request("popular", refresh=True).id)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 1 and len(results) == 2
    assert MalUser.objects.filter(username="popular").count() == 1
    assert len(fake_mal.requests("/v2/users/popular/animelist?")) == 2  # one fetch: 2 pages


def test_a_never_seen_user_gets_recommendations_similar_users_and_comparisons(fake_mal, api):
    """Issue 3, "done when": everything works on the very first request."""
    shared = make_list(30)
    fake_mal.add_user("mentor", shared + [
        list_item(anime_json(500, title="Hidden Gem", genres=(1, 24), start_date="2012-10-04",
                             num_episodes=25, rating="r", mean=8.9), score=10, updated_at=T0)])
    mal_user_sync(username="mentor")
    fake_mal.add_user("Rookie", shared[:20])

    similar = api.get("/Rookie/similar")
    assert similar.status_code == 200, similar.content
    assert [u["username"] for u in similar.json()["data"]] == ["mentor"]

    response = api.get("/rookie/recommendations")
    assert response.status_code == 200, response.content
    recommended = response.json()["data"]
    gem = next(r for r in recommended if r["id"] == 500)
    assert gem["details"] == {
        "title": "Hidden Gem", "mean": 8.9, "airing_date": "2012-10-04T00:00:00", "length": 25,
        "rating": "r", "picture": "https://cdn.example/500.jpg",
        "genres": ["Action", "Sci-Fi"]}
    assert gem["users"][0]["username"] == "mentor" and gem["score"] == 10
    assert all(r["id"] > 20 for r in recommended)  # never the requester's own anime

    response = api.get("/rookie/compare/mentor")
    assert response.status_code == 200, response.content
    compare = response.json()["data"]
    mentor_hash = expected_hash(fake_mal.lists["mentor"])
    rookie_hash = expected_hash(fake_mal.lists["rookie"])
    assert mentor_hash != rookie_hash
    assert compare == {"username": "mentor", "hash": format(mentor_hash, "02x"),
                       "similarity": expected_similarity(mentor_hash, rookie_hash)}
    assert len(fake_mal.requests("/v2/users/rookie/")) == 1  # fetched once, then stored


def test_mal_refusing_our_client_id_is_a_502(fake_mal, api, settings):
    fake_mal.add_user("bob", make_list(3))
    settings.MAL_CLIENT_ID = "revoked-client-id"  # the fake answers 401 to it

    error_of(api.get("/bob/similar"), 502, "MALUnavailable")
    assert stored_rows() == {name: [] for name in stored_rows()}
    assert len(fake_mal.requests()) == 1  # not retried


def test_mal_down_with_retry_after_passes_it_on(fake_mal, api):
    fake_mal.add_user("bob", make_list(3))
    fake_mal.fail("/v2/users/bob", 503, retry_after=90)

    response = api.get("/bob/similar")

    error_of(response, 503, "MALUnavailable")
    assert response["Retry-After"] == "90"
    assert stored_rows() == {name: [] for name in stored_rows()}


def test_a_request_stops_waiting_for_another_fetch_of_the_same_user(fake_mal, api, settings):
    fake_mal.add_user("popular", make_list(3))
    settings.MAL_SYNC_REQUEST_WAIT_SECONDS = 0.2
    # Another process holds the user's fetch lock (and would for MAL_SYNC_LOCK_SECONDS).
    cache.add(LOCK_KEY.format("popular"), "someone-else", timeout=30)
    response = api.get("/popular/similar")
    body = error_of(response, 503, "MALUnavailable")
    assert response["Retry-After"] == "5" and "being fetched" in body["message"]
    assert not MalUser.objects.filter(username="popular").exists()
    cache.delete(LOCK_KEY.format("popular"))
    assert api.get("/popular/similar").status_code == 200
