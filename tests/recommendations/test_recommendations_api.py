"""/{user}/recommendations, /{user}/recommendations/{other} and /{user}/random on small
hand-built data: formulas, filters, shapes (reko-api.md, "Page sizes and ordering")."""
import pytest
from django.utils import timezone

from recommendations import live_index
from recommendations.models import Anime
from tests.factories import AnimeFactory, MalUserFactory
from tests.helpers import REQUESTER_HASH, entry, hash_at, json_ok, similarity_of, user_at
from users.services import EntryData, mal_user_store_list, mal_users_rehash

pytestmark = pytest.mark.django_db

DETAILS_KEYS = {"title", "mean", "airing_date", "length", "rating", "picture", "genres"}


@pytest.fixture
def world():
    """A requester, three neighbours (amy closest, then bob, then cyd) and their lists.

    Expected batch order, by sum / (count + 1) - floor(average years / 2):
      3: (9 + 9 + 8) / 4 - floor(3.0 / 2) = 6.5 - 1 = 5.5          score 26 // 3 = 8
      7: 10 / 2 - 0 = 5, mean 8.0 (wins the tie at 5 on its mean)  score 10
      2: 10 / 2 - 0 = 5, mean 7.0, id 2                             score 10
      4: 10 / 2 - 0 = 5, mean 7.0, id 4                             score 10
     10: 10 / 2 - floor(2.1 / 2) = 4                                score 10
      1: (8 + 6) / 3 - floor(2.1 / 2) = 4.67 - 1 = 3.67            score 7
     16: 6 / 2 - 0 = 3 (watching with episodes seen counts)         score 6
    """
    requester = MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    amy, bob, cyd = user_at(1, "amy"), user_at(2, "bob"), user_at(3, "cyd")
    anime = {i: AnimeFactory(id=i, mean=mean, title=f"Title {i}") for i, mean in [
        (1, 8.0), (2, 7.0), (3, 9.0), (4, 7.0), (5, 9.5), (7, 8.0), (8, 9.9), (9, 9.0),
        (10, 9.0), (11, 9.0), (12, 9.0), (13, 9.0), (14, 9.0), (15, 9.0), (16, 7.0)]}
    anime[6] = AnimeFactory(id=6, mean=None)
    anime[5].parent = anime[1]
    anime[5].save()
    anime[3].genres = [1, 4, 43]
    anime[3].picture = "https://cdn.myanimelist.net/images/anime/3.jpg"
    anime[3].save()

    entry(requester, anime[8], 7)
    entry(requester, anime[11], 0, status="plan_to_watch", episodes_watched=0)

    entry(amy, anime[1], 8, years=1.6)
    entry(bob, anime[1], 6, years=2.6)
    entry(bob, anime[2], 10, years=0.1)
    entry(cyd, anime[3], 9, years=2.5)
    entry(amy, anime[3], 9, years=3.5)
    entry(bob, anime[3], 8, years=3.0)
    entry(cyd, anime[4], 10, years=0.1)
    entry(amy, anime[7], 10, years=0.1)
    entry(amy, anime[10], 10, years=2.1)
    entry(bob, anime[16], 6, years=0.1, status="watching", episodes_watched=3)
    # Everything below must stay out.
    entry(amy, anime[5], 10)                                                # a sequel
    entry(bob, anime[6], 10)                                                # no mean
    entry(cyd, anime[8], 10)                                                # requester's
    entry(amy, anime[11], 10)                                               # requester's PTW
    entry(bob, anime[9], 0)                                                 # unscored
    entry(amy, anime[12], 10, status="plan_to_watch", episodes_watched=0)   # unwatched
    entry(bob, anime[13], 10, status="watching", episodes_watched=0)        # unwatched
    entry(cyd, anime[14], 10, status="dropped", episodes_watched=5)         # dropped
    entry(amy, anime[15], 10, status="on_hold", episodes_watched=5)         # on hold
    entry(cyd, AnimeFactory.build(id=424242), 10)                           # not in catalog
    return requester


def _ids(body):
    return [item["id"] for item in body["data"]]


def test_batch_recommendations_follow_the_contract_formula(client, world):
    body = json_ok(client.get("/req_user/recommendations"))
    assert _ids(body) == [3, 7, 2, 4, 10, 1, 16]
    assert [item["score"] for item in body["data"]] == [8, 10, 10, 10, 10, 7, 6]


def test_a_recommendation_lists_its_users_most_similar_first(client, world):
    first = json_ok(client.get("/req_user/recommendations"))["data"][0]
    assert first["users"] == [
        {"username": "amy", "hash": format(hash_at(1), "x"), "similarity": similarity_of(1),
         "score": 9},
        {"username": "bob", "hash": format(hash_at(2), "x"), "similarity": similarity_of(2),
         "score": 8},
        {"username": "cyd", "hash": format(hash_at(3), "x"), "similarity": similarity_of(3),
         "score": 9},
    ]


def test_a_recommendation_has_the_contract_shape(client, world):
    body = json_ok(client.get("/req_user/recommendations"))
    assert set(body) == {"requester", "pagination", "data"}
    assert body["requester"] == {"username": "req_user", "hash": "8000000000000000"}
    assert body["pagination"] == {"current": 1, "previous": None, "next": None}
    first = body["data"][0]
    assert set(first) == {"id", "score", "details", "users"}
    assert first["details"] == {
        "title": "Title 3", "mean": 9.0, "airing_date": "2015-04-01T00:00:00", "length": 12,
        "rating": "pg_13", "picture": "https://cdn.myanimelist.net/images/anime/3.jpg",
        "genres": ["Action", "Comedy", "Josei"],
    }


def test_details_allow_missing_values(client, world):
    Anime.objects.filter(id=1).update(
        start_date=None, episodes=None, rating=None, picture=None, genres=[])
    body = json_ok(client.get("/req_user/recommendations"))
    details = next(item["details"] for item in body["data"] if item["id"] == 1)
    assert details["airing_date"] is None and details["length"] is None
    assert details["rating"] is None and details["picture"] is None
    assert details["genres"] == []


def test_recommendations_from_one_user_follow_score_minus_half_the_years(client, world):
    # amy: 7 -> 10; 10 -> 10 - floor(2.1 / 2) = 9; 3 -> 9 - floor(3.5 / 2) = 8 (mean 9.0);
    # 1 -> 8 - floor(1.6 / 2) = 8 (mean 8.0). 5 (sequel), 11 (requester's), 12 (planned)
    # and 15 (on hold) stay out.
    body = json_ok(client.get("/req_user/recommendations/amy"))
    assert set(body) == {"requester", "pagination", "data"}
    assert _ids(body) == [7, 10, 3, 1]
    assert [item["score"] for item in body["data"]] == [10, 10, 9, 8]
    assert set(body["data"][0]) == {"id", "score", "details"}
    assert set(body["data"][0]["details"]) == DETAILS_KEYS


def test_recommendations_from_one_user_leave_out_unwatched_and_unscored(client, world):
    # bob: 1 (6), 2 (10), 3 (8), 16 (6, watching with episodes); 6 (no mean), 9 (unscored)
    # and 13 (watching, no episode) stay out.
    body = json_ok(client.get("/req_user/recommendations/BOB"))
    assert sorted(_ids(body)) == [1, 2, 3, 16]


def test_recommendations_from_oneself_are_empty(client, world):
    body = json_ok(client.get("/req_user/recommendations/req_user"))
    assert body["data"] == []


def test_batch_two_draws_on_the_next_32_similar_users(client, db):
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    near, far = AnimeFactory(id=1), AnimeFactory(id=2)
    for i in range(32):
        entry(user_at(1, f"near_{i:02d}"), near, 7)
    entry(user_at(10, "far"), far, 9)
    assert _ids(json_ok(client.get("/req_user/recommendations"))) == [1]
    body = json_ok(client.get("/req_user/recommendations?batch=2"))
    assert _ids(body) == [2]
    assert [u["username"] for u in body["data"][0]["users"]] == ["far"]
    assert json_ok(client.get("/req_user/recommendations?batch=99"))["data"] == []


def test_random_picks_up_to_32_candidates_of_the_batch(client, db):
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    amy, bob = user_at(1, "amy"), user_at(2, "bob")
    for i in range(1, 61):
        entry(amy if i % 2 else bob, AnimeFactory(id=i, mean=5 + i / 20), 1 + i % 10)
    candidates = {}
    for page in range(1, 5):
        for item in json_ok(client.get(f"/req_user/recommendations?page={page}"))["data"]:
            candidates[item["id"]] = item
    assert len(candidates) == 60

    first = json_ok(client.get("/req_user/random"))
    assert set(first) == {"requester", "data"}
    assert len(first["data"]) == 32
    assert len({item["id"] for item in first["data"]}) == 32
    for item in first["data"]:
        assert item == candidates[item["id"]]
    second = json_ok(client.get("/req_user/random?batch=1"))
    assert [i["id"] for i in first["data"]] != [i["id"] for i in second["data"]]


def test_random_with_few_candidates_returns_them_all(client, world):
    body = json_ok(client.get("/req_user/random"))
    assert sorted(item["id"] for item in body["data"]) == [1, 2, 3, 4, 7, 10, 16]


def test_recommendation_pages_read_no_row_per_item(client, db, django_assert_max_num_queries):
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    users = [user_at(d, f"u_{d:02d}") for d in range(1, 9)]
    for i in range(1, 41):
        for user in users[: 1 + i % 8]:
            entry(user, AnimeFactory(id=i), 1 + i % 10)
    json_ok(client.get("/req_user/recommendations"))  # builds the index and the snapshot
    with django_assert_max_num_queries(5):
        data = json_ok(client.get("/req_user/recommendations?page=2"))["data"]
    assert len(data) == 16
    with django_assert_max_num_queries(6):
        assert len(json_ok(client.get("/req_user/recommendations/u_01"))["data"]) == 16
    with django_assert_max_num_queries(5):
        assert len(json_ok(client.get("/req_user/random"))["data"]) == 32


def test_genres_show_only_the_contracts_genres_in_catalog_order(client, world):
    # 16 (Magic) is a retired MAL genre with no row in the contract's table.
    Anime.objects.filter(id=7).update(genres=[43, 16, 1, 22])
    body = json_ok(client.get("/req_user/recommendations"))
    details = next(item["details"] for item in body["data"] if item["id"] == 7)
    assert details["genres"] == ["Josei", "Action", "Romance"]


def test_a_lonely_user_gets_empty_lists(client, db):
    MalUserFactory(username="alone", hash=REQUESTER_HASH)
    for path in ("/alone/similar", "/alone/recommendations", "/alone/recommendations/alone"):
        body = json_ok(client.get(path))
        assert body["data"] == []
        assert body["pagination"] == {"current": 1, "previous": None, "next": None}
    assert json_ok(client.get("/alone/random"))["data"] == []


def test_an_anime_deleted_before_the_index_polls_is_skipped_not_a_500(
        client, world, settings, monkeypatch):
    settings.INDEX_POLL_SECONDS = 3600  # the index still has anime 7 in its catalog
    client.get("/req_user/recommendations")
    Anime.objects.filter(id=7).delete()
    monkeypatch.setattr(live_index, "_details", None)  # a worker with no details cached yet
    batch = json_ok(client.get("/req_user/recommendations"))["data"]
    single = json_ok(client.get("/req_user/recommendations/amy"))["data"]
    assert [r["id"] for r in batch] == [3, 2, 4, 10, 1, 16]
    assert 7 not in [r["id"] for r in single]


def test_an_anime_the_requester_lists_since_is_no_longer_recommended(
        client, world, django_capture_on_commit_callbacks):
    assert 3 in _ids(json_ok(client.get("/req_user/recommendations")))
    with django_capture_on_commit_callbacks(execute=True):  # as the commit would run them
        mal_user_store_list(username="req_user", full=False, synced_at=timezone.now(),
                            entries=[EntryData(3, "plan_to_watch", 0, 0, timezone.now())])
    assert 3 not in _ids(json_ok(client.get("/req_user/recommendations")))


def test_an_import_that_lists_more_anime_for_the_requester_is_seen_at_once(
        client, world, django_capture_on_commit_callbacks):
    assert 7 in _ids(json_ok(client.get("/req_user/recommendations")))
    entry(world, Anime.objects.get(id=7), 0, status="plan_to_watch", episodes_watched=0)
    with django_capture_on_commit_callbacks(execute=True):
        mal_users_rehash(user_ids=[world.id])  # what the imports do after writing entries
    assert 7 not in _ids(json_ok(client.get("/req_user/recommendations")))
