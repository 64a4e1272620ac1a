"""The opt-in trained ranking (?algorithm=scored_ease) through HTTP: training with the
management command, the pages it serves, fold-in, errors, and a retrain while serving."""
import math
import threading

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from recommendations import live_index, model_service
from recommendations.engine import model_file
from recommendations.engine.models.base import UserList
from recommendations.models import IndexChange
from tests.factories import AnimeFactory, MalUserFactory
from tests.helpers import REQUESTER_HASH, assert_error, entry, json_ok, user_at
from users.models import ListEntry

pytestmark = pytest.mark.django_db

ALGORITHM = "algorithm=scored_ease"
RECOMMENDATION_KEYS = {"id", "score", "details", "users"}
USER_KEYS = {"username", "hash", "similarity", "score"}
# C's scorers (fans 1-4) and their scores: the explanation of C in batch 1.
C_SCORES = [10, 9, 9, 8]


@pytest.fixture(autouse=True)
def model_dir(settings, tmp_path):
    settings.MODEL_DIR = str(tmp_path / "models")
    settings.INDEX_POLL_SECONDS = 0  # every request looks for a newer model
    model_service.forget_models()
    yield
    model_service.forget_models()


@pytest.fixture
def world():
    """The requester watched A and B (and plans H). Fans 1-4, the closest users, watched
    A, B and C (and the sequel F, the mean-less G, H); others 5-8, further away, watched
    D and E. C is what the model must put first; A, B, H, F and G never appear."""
    anime = {name: AnimeFactory(id=i, mean=mean, title=name) for name, i, mean in [
        ("A", 1, 8.0), ("B", 2, 7.5), ("C", 3, 7.0), ("D", 4, 9.0), ("E", 5, 8.5),
        ("F", 6, 8.0), ("G", 7, None), ("H", 8, 9.5)]}
    anime["F"].parent = anime["C"]
    anime["F"].save()
    requester = MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    entry(requester, anime["A"], 9)
    entry(requester, anime["B"], 8)
    entry(requester, anime["H"], 0, status="plan_to_watch", episodes_watched=0)
    for n, c_score in enumerate(C_SCORES, start=1):
        fan = user_at(n, f"fan_{n}")
        for name, score in [("A", 9), ("B", 8), ("C", c_score), ("F", 9), ("G", 9), ("H", 10)]:
            entry(fan, anime[name], score)
    for n in range(5, 9):
        other = user_at(n, f"other_{n}")
        for name, score in [("D", 9), ("E", 8)]:
            entry(other, anime[name], score)
    return anime


def train():
    call_command("train_model", verbosity=0)


def ids_of(body) -> list[int]:
    return [item["id"] for item in body["data"]]


def test_before_the_first_training_the_opt_in_is_a_503_and_the_contract_still_answers(
        client, world):
    for route in ("/req_user/recommendations", "/req_user/random"):
        assert_error(client.get(f"{route}?{ALGORITHM}"), 503, "ModelNotTrained")
        json_ok(client.get(route))


@pytest.mark.parametrize("query", ["algorithm=nope", "algorithm=", "algorithm=SCORED_EASE"])
@pytest.mark.parametrize("route", ["/req_user/recommendations", "/req_user/random"])
def test_an_unknown_algorithm_is_an_invalid_query(client, world, route, query):
    train()
    assert_error(client.get(f"{route}?{query}"), 400, "InvalidQuery")


def test_the_contract_answer_is_the_same_with_a_trained_model(client, world):
    before = client.get("/req_user/recommendations?page=1&batch=1").content
    train()
    assert client.get("/req_user/recommendations?page=1&batch=1").content == before


def test_a_trained_page_has_the_contract_shape_and_the_model_order(client, world):
    train()
    body = json_ok(client.get(f"/req_user/recommendations?{ALGORITHM}"))
    assert body["requester"] == json_ok(client.get("/req_user/recommendations"))["requester"]
    assert body["pagination"] == {"current": 1, "previous": None, "next": None}
    ids = ids_of(body)
    assert ids[0] == 3  # C: watched with A and B by the requester's closest users
    assert set(ids) == {3, 4, 5}  # never A, B (watched), H (planned), F (sequel), G (no mean)
    for item in body["data"]:
        assert set(item) == RECOMMENDATION_KEYS
        assert isinstance(item["score"], int) and 1 <= item["score"] <= 10
        assert item["details"]["title"] == {3: "C", 4: "D", 5: "E"}[item["id"]]
        for user in item["users"]:
            assert set(user) == USER_KEYS
    # The order is the model's own, from the requester's list as stored.
    loaded = model_service.model_for("scored_ease")
    own = UserList(anime_ids=np.array([1, 2]), scores=np.array([9, 8]),
                   updated=np.zeros(2), listed_anime_ids=np.array([1, 2, 8]))
    assert ids == loaded.model.recommend(own, 320).anime_ids.tolist()


def test_the_explanation_names_neighbours_of_the_batch_who_scored_it(client, world):
    train()
    body = json_ok(client.get(f"/req_user/recommendations?{ALGORITHM}&batch=1"))
    similar = json_ok(client.get("/req_user/similar?page=1"))["data"]
    order = [user["username"] for user in similar]
    c = body["data"][0]
    assert [u["username"] for u in c["users"]] == ["fan_1", "fan_2", "fan_3", "fan_4"]
    assert [u["score"] for u in c["users"]] == C_SCORES
    assert c["score"] == sum(C_SCORES) // len(C_SCORES)
    for item in body["data"]:
        names = [u["username"] for u in item["users"]]
        assert names == sorted(names, key=order.index)  # most similar first
        for user in item["users"]:
            neighbour = next(s for s in similar if s["username"] == user["username"])
            assert {k: user[k] for k in ("hash", "similarity")} == \
                {k: neighbour[k] for k in ("hash", "similarity")}
            stored = ListEntry.objects.get(user__username=user["username"], anime_id=item["id"])
            assert stored.score == user["score"]


def test_a_batch_without_any_scorer_gives_the_training_mean_score(client, world):
    train()
    body = json_ok(client.get(f"/req_user/recommendations?{ALGORITHM}&batch=2"))
    c = body["data"][0]
    assert c["id"] == 3 and c["users"] == []
    assert c["score"] == math.floor(sum(C_SCORES) / len(C_SCORES))


def test_a_user_added_after_the_training_is_served_from_their_own_list(client, world):
    train()
    late = user_at(1, "late_user")
    entry(late, world["D"], 10)
    entry(late, world["A"], 9)
    entry(late, world["B"], 9)
    live_index.record_changes(IndexChange.Kind.USER, [late.id])
    ids = ids_of(json_ok(client.get(f"/late_user/recommendations?{ALGORITHM}")))
    assert ids[0] == 3 and 4 not in ids and not {1, 2, 6, 7} & set(ids)


def test_random_draws_from_the_model_ranking(client, world):
    train()
    ranked = set(ids_of(json_ok(client.get(f"/req_user/recommendations?{ALGORITHM}"))))
    for _ in range(5):
        body = json_ok(client.get(f"/req_user/random?{ALGORITHM}&batch=1"))
        ids = ids_of(body)
        assert set(body) == {"requester", "data"}
        assert len(ids) == len(set(ids)) == len(ranked) and set(ids) == ranked
        for item in body["data"]:
            assert set(item) == RECOMMENDATION_KEYS


def test_training_with_no_lists_fails_and_publishes_nothing(db, settings):
    with pytest.raises(CommandError, match="no watched, scored entries"):
        train()
    assert model_file.current_version(model_service.model_folder()) is None


def test_a_retrain_switches_workers_to_the_new_version(client, world):
    train()
    first = model_service.model_for("scored_ease").version
    train()
    assert model_service.model_for("scored_ease").version != first
    versions = list(model_service.model_folder().glob("v-*"))
    assert len(versions) == 2


@pytest.mark.django_db(transaction=True)
def test_requests_during_a_retrain_get_the_old_or_the_new_model(world, client):
    train()
    url = f"/req_user/recommendations?{ALGORITHM}"
    old = ids_of(json_ok(client.get(url)))
    # New fans of A, B and D: the next training ranks D first.
    fans = [user_at(n, f"d_fan_{n}") for n in range(9, 17)]
    for fan in fans:
        for name, score in [("A", 9), ("B", 9), ("D", 10)]:
            entry(fan, world[name], score)
    live_index.record_changes(IndexChange.Kind.USER, [fan.id for fan in fans])
    assert ids_of(json_ok(client.get(url))) == old  # the data alone changes nothing

    seen, failures, stop = [], [], threading.Event()

    def serve():
        try:
            from django.test import Client
            other = Client()
            while not stop.is_set():
                response = other.get(url)
                if response.status_code != 200:
                    failures.append(response.content)
                else:
                    seen.append(ids_of(response.json()))
        finally:
            connections.close_all()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        train()
    finally:
        stop.set()
        thread.join(30)
    new = ids_of(json_ok(client.get(url)))
    assert new != old and new[0] == 4
    assert not failures
    assert seen and all(ids in (old, new) for ids in seen)
