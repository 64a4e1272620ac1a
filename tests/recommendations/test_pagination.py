"""Page clamping and current/previous/next on the three paginated routes."""
import datetime as dt

import pytest
from django.utils import timezone

from recommendations.models import Anime
from tests.factories import MalUserFactory
from tests.helpers import REQUESTER_HASH, assert_error, json_ok
from users.models import ListEntry, MalUser

pytestmark = pytest.mark.django_db


def _links(current, previous, next_):
    return {"current": current, "previous": previous, "next": next_}


@pytest.fixture
def crowd():
    """The requester and 70 similar users: similar pages of 32, 32 and 6."""
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    MalUser.objects.bulk_create(
        MalUser(username=f"n_{i:03d}", hash=REQUESTER_HASH | (i + 1)) for i in range(70))


@pytest.fixture
def many_anime():
    """One neighbour, "other", with ``count`` recommendable anime: 16 a page."""
    def make(count):
        MalUserFactory(username="req_user", hash=REQUESTER_HASH)
        other = MalUserFactory(username="other", hash=REQUESTER_HASH | 2)
        Anime.objects.bulk_create(
            Anime(id=i, title=f"A{i}", mean=7.0) for i in range(1, count + 1))
        now = timezone.now()
        ListEntry.objects.bulk_create(
            ListEntry(user=other, anime_id=i, status="completed", score=1 + i % 10,
                      episodes_watched=1, updated_at=now - dt.timedelta(minutes=i))
            for i in range(1, count + 1))
    return make


@pytest.mark.parametrize("query, links, size", [
    ("", _links(1, None, 2), 32),
    ("?page=0", _links(1, None, 2), 32),
    ("?page=-1", _links(1, None, 2), 32),
    ("?page=2", _links(2, 1, 3), 32),
    ("?page=3", _links(3, 2, None), 6),     # the last page with data
    ("?page=4", _links(4, 3, None), 0),
    ("?page=20", _links(20, 19, None), 0),
    ("?page=21", _links(21, 20, None), 0),  # /similar goes up to 40
    ("?page=99", _links(40, 39, None), 0),
    ("?page=+2", _links(2, 1, 3), 32),
])
def test_similar_pages_are_clamped_to_1_40(client, crowd, query, links, size):
    body = json_ok(client.get(f"/req_user/similar{query}"))
    assert body["pagination"] == links
    assert len(body["data"]) == size


def test_similar_pages_split_one_ordered_list(client, crowd):
    names = []
    for page in (1, 2, 3):
        body = json_ok(client.get(f"/req_user/similar?page={page}"))
        names += [u["username"] for u in body["data"]]
    assert len(names) == len(set(names)) == 70


def test_similar_has_no_next_at_page_40_even_with_more_users(client):
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    MalUser.objects.bulk_create(
        MalUser(username=f"n_{i:04d}", hash=REQUESTER_HASH | (i + 1)) for i in range(1300))
    assert json_ok(client.get("/req_user/similar?page=39"))["pagination"] == _links(39, 38, 40)
    body = json_ok(client.get("/req_user/similar?page=40"))
    assert body["pagination"] == _links(40, 39, None)
    assert len(body["data"]) == 32


@pytest.mark.parametrize("route", ["/req_user/recommendations", "/req_user/recommendations/other"])
@pytest.mark.parametrize("query, links, size", [
    ("", _links(1, None, 2), 16),
    ("?page=0", _links(1, None, 2), 16),
    ("?page=-1", _links(1, None, 2), 16),
    ("?page=3", _links(3, 2, None), 8),     # 40 anime: 16 + 16 + 8
    ("?page=4", _links(4, 3, None), 0),
    ("?page=20", _links(20, 19, None), 0),
    ("?page=21", _links(20, 19, None), 0),
    ("?page=99", _links(20, 19, None), 0),
])
def test_recommendation_pages_are_clamped_to_1_20(client, many_anime, route, query, links, size):
    many_anime(40)
    body = json_ok(client.get(route + query))
    assert body["pagination"] == links
    assert len(body["data"]) == size


@pytest.mark.parametrize("route", ["/req_user/recommendations", "/req_user/recommendations/other"])
def test_recommendations_have_no_next_at_page_20_even_with_more_data(client, many_anime, route):
    many_anime(340)  # 21 full pages and a bit
    assert json_ok(client.get(route + "?page=19"))["pagination"] == _links(19, 18, 20)
    body = json_ok(client.get(route + "?page=99"))
    assert body["pagination"] == _links(20, 19, None)
    assert len(body["data"]) == 16


@pytest.mark.parametrize("route", ["/req_user/recommendations", "/req_user/recommendations/other"])
def test_recommendation_pages_do_not_overlap(client, many_anime, route):
    many_anime(40)
    ids = []
    for page in (1, 2, 3):
        ids += [item["id"] for item in json_ok(client.get(f"{route}?page={page}"))["data"]]
    assert sorted(ids) == list(range(1, 41))


@pytest.mark.parametrize("path", ["/req_user/similar?page=abc",
                                  "/req_user/recommendations?page=abc",
                                  "/req_user/recommendations/other?page=abc",
                                  "/req_user/recommendations?batch=abc"])
def test_a_page_that_is_not_a_number_is_invalid(client, many_anime, path):
    many_anime(1)
    assert_error(client.get(path), 400, "InvalidQuery")


def test_batch_is_clamped_from_below_to_1(client, many_anime):
    many_anime(3)
    first = json_ok(client.get("/req_user/recommendations?batch=1"))["data"]
    assert [i["id"] for i in first] == [3, 2, 1]  # higher score first (scores 4, 3, 2)
    for batch in ("0", "-5"):
        assert json_ok(client.get(f"/req_user/recommendations?batch={batch}"))["data"] == first
    assert {i["id"] for i in json_ok(client.get("/req_user/random?batch=0"))["data"]} \
        == {1, 2, 3}


@pytest.fixture
def forty_batches():
    """The requester and 1,300 neighbours (40 batches of 32 and more), each with an anime
    of their own: a batch's recommendations name exactly its 32 users' anime."""
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    users = MalUser.objects.bulk_create(
        MalUser(username=f"n_{i:04d}", hash=REQUESTER_HASH | (i + 1)) for i in range(1300))
    Anime.objects.bulk_create(Anime(id=u.id, title=f"A{u.id}", mean=7.0) for u in users)
    now = timezone.now()
    ListEntry.objects.bulk_create(
        ListEntry(user=u, anime_id=u.id, status="completed", score=8, episodes_watched=1,
                  updated_at=now) for u in users)


def _batch_anime(client, route, batch):
    pages = (1, 2) if route == "recommendations" else (None,)
    ids = set()
    for page in pages:
        query = f"?batch={batch}" + (f"&page={page}" if page else "")
        ids |= {item["id"] for item in json_ok(client.get(f"/req_user/{route}{query}"))["data"]}
    return ids


@pytest.mark.parametrize("route", ["recommendations", "random"])
def test_batch_is_clamped_from_above_to_40(client, forty_batches, route):
    last = _batch_anime(client, route, 40)
    assert len(last) == 32  # one anime from each of the 32 users of batch 40
    assert last.isdisjoint(_batch_anime(client, route, 39))
    for batch in (41, 100_000):
        assert _batch_anime(client, route, batch) == last


@pytest.mark.parametrize("query, current", [
    ("?page=%203%20", 3),
    ("?page=0000000000000000000000003", 3),
    ("?page=99999999999999999999999999999", 20),
    ("?page=-99999999999999999999999999999", 1),
])
def test_odd_but_integer_pages_are_read_and_clamped(client, many_anime, query, current):
    many_anime(1)
    body = json_ok(client.get("/req_user/recommendations" + query))
    assert body["pagination"]["current"] == current


@pytest.mark.parametrize("query", ["?page=", "?page=%20", "?batch=", "?page=3abc", "?page=0x10"])
def test_an_empty_or_malformed_value_is_invalid(client, many_anime, query):
    many_anime(1)
    assert_error(client.get("/req_user/recommendations" + query), 400, "InvalidQuery")
