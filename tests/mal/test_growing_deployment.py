"""A deployment that starts empty and grows one MAL user at a time: everyone fetched so far
is in every earlier user's similar page and recommendation batch, through the HTTP routes."""
import pytest

from tests.mal.conftest import make_list
from tests.mal.fake_mal import anime_json, list_item

USERS = 8
SHARED_ENTRIES = 20
OWN_ANIME_BASE = 5000


def _add_users(fake_mal) -> list[str]:
    """Users with one taste (same hash) and one anime each that only they watched, which
    the others are recommended with that user among its recommenders."""
    names = [f"grower_{i:02d}" for i in range(USERS)]
    for i, name in enumerate(names):
        own = list_item(anime_json(OWN_ANIME_BASE + i), score=10)
        fake_mal.add_user(name, make_list(SHARED_ENTRIES) + [own])
    return names


def _similar(api, name) -> list[str]:
    response = api.get(f"/{name}/similar")
    assert response.status_code == 200, response.content
    return [u["username"] for u in response.json()["data"]]


def _recommenders(api, path) -> set[str]:
    response = api.get(path)
    assert response.status_code == 200, response.content
    return {u["username"] for item in response.json()["data"] for u in item["users"]}


@pytest.mark.django_db(transaction=True)
def test_users_fetched_one_by_one_appear_in_every_earlier_users_lists(fake_mal, api):
    names = _add_users(fake_mal)
    for count, newcomer in enumerate(names, start=1):
        assert set(_similar(api, newcomer)) == set(names[:count - 1])  # fetched here
        for earlier in names[:count - 1]:
            others = set(names[:count]) - {earlier}
            assert set(_similar(api, earlier)) == others, (newcomer, earlier)
            assert _recommenders(api, f"/{earlier}/recommendations") == others
            assert _recommenders(api, f"/{earlier}/random") == others
