"""Hostile usernames and query strings get a clear 4xx in the contract's shape, store
nothing and never reach MyAnimeList (the fake MAL counts every request it receives)."""
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommendations.models import Anime
from tests.mal.conftest import make_list
from users.models import USERNAME_RE, ListEntry, MalUser

pytestmark = pytest.mark.django_db

# A valid name that the fake MAL knows: any request that got as far as fetching it would
# show up in the fake's log and in the database.
BAIT = "bait_user"
ROUTES = ["/{}/similar", "/{}/recommendations", "/{}/random", "/{}/compare/" + BAIT,
          "/" + BAIT + "/compare/{}", "/{}/recommendations/" + BAIT,
          "/" + BAIT + "/recommendations/{}"]
HOSTILE_NAMES = [
    "é_user", "ǅabc", "ａｂｃ", "٣٣٣", "user\u200b", "\u202eresu", "x", "a" * 17, "a" * 3000,
    "\x00ab", "ab\x00cd", "%00", "ab%00", "..", "../admin", "..\\..", "./.",
    "' OR 1=1--", "a'; DROP TABLE users_maluser;--", "1 UNION SELECT *", "admin'--",
    "%s%s%s%n", "{0}{1}", "%(x)s", "${jndi:ldap://x}", "{{7*7}}", "<script>",
    "a b", "a\nb", "ab\n", "ab\r\n", "a/b", "a?b", "a#b", "a;b", "",
]
HOSTILE_VALUES = [
    "\x00", "1\x00", "%00", "'; DROP TABLE users_maluser;--", "1 OR 1=1", "%s%n", "{0}",
    "9" * 5000 + "x", "１", "٣", "-", "+", "1.5", "1e3", "0x10", "NaN", "Infinity", "[]", "",
    "1,2", "../1", "\u202e1",
]


def short(value) -> str:
    return repr(value)[:24]


@pytest.fixture
def bait(fake_mal):
    fake_mal.add_user(BAIT, make_list(30))
    return fake_mal


def stored_rows() -> tuple[int, int, int]:
    return MalUser.objects.count(), ListEntry.objects.count(), Anime.objects.count()


def assert_clean_rejection(response, *, error_ids=("InvalidUsername", "InvalidQuery")):
    """A 400 JSON error of the contract, or the plain-text 404 of a path no route matches
    (a name with a slash, an empty name). Never HTML, never a traceback."""
    body = response.content
    assert b"Traceback" not in body and b"<html" not in body.lower()
    assert response.status_code in (400, 404), (response.status_code, body[:300])
    if response["Content-Type"] == "application/json":
        error = response.json()
        assert set(error) == {"code", "id", "message"}
        assert error["code"] == response.status_code == 400
        assert error["id"] in error_ids and error["message"]
        assert len(error["message"]) < 200
    else:
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/plain")
        assert body == b"Resource not found"


def path_for(route: str, name: str) -> str:
    # With the host written out: the test client would read an empty name's "//similar" as
    # the host "similar" and request "/" (the page for people) instead.
    return "http://testserver" + route.format(quote(name, safe=""))


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=short)
def test_a_hostile_username_is_refused_before_anything_happens(client, bait, route, name):
    before = stored_rows()
    assert_clean_rejection(client.get(path_for(route, name)))
    assert stored_rows() == before
    assert bait.requests() == []


@pytest.mark.parametrize("name", ["..", "%2e%2e", "..%2f..", "%00", "%u0000", "a%ZZ"])
def test_raw_path_tricks_are_refused_too(client, bait, name):
    """Written into the URL as they are, not quoted by us."""
    before = stored_rows()
    assert_clean_rejection(client.get(f"/{name}/similar"))
    assert stored_rows() == before
    assert bait.requests() == []


@pytest.mark.parametrize("route,parameter", [
    ("/{}/similar", "page"), ("/{}/recommendations", "page"),
    ("/{}/recommendations", "batch"), ("/{}/random", "batch"),
    ("/{}/recommendations/" + BAIT, "page"),
])
@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=short)
def test_a_hostile_query_value_is_refused_before_any_fetch(client, bait, route, parameter,
                                                           value):
    before = stored_rows()
    response = client.get(route.format(BAIT) + f"?{parameter}={quote(value, safe='')}")
    assert_clean_rejection(response, error_ids=("InvalidQuery",))
    assert parameter in response.json()["message"]
    assert stored_rows() == before
    assert bait.requests() == []


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.text(max_size=30).filter(lambda n: not USERNAME_RE.match(n)),
       route=st.sampled_from(ROUTES))
def test_no_generated_invalid_username_gets_further(client, bait, name, route):
    before = stored_rows()
    assert_clean_rejection(client.get(path_for(route, name)))
    assert stored_rows() == before
    assert bait.requests() == []


def test_a_very_long_integer_is_only_clamped(client, bait):
    response = client.get(f"/{BAIT}/similar?page={'9' * 5000}")
    assert response.status_code == 200, response.content
    assert response.json()["pagination"]["current"] == 40


def test_the_bait_itself_is_fetched_and_stored(client, bait):
    """The counterpart that keeps the tests above honest: a valid name does reach MAL."""
    response = client.get(f"/{BAIT}/similar")
    assert response.status_code == 200, response.content
    assert MalUser.objects.filter(username=BAIT).exists()
    assert bait.requests(f"/v2/users/{BAIT}/animelist")
