"""Every error path of the contract (reko-api.md, "Errors" and "Routes"), and the headers
every response must carry, plain-text ones included."""
import pytest

from tests.factories import AnimeFactory, ListEntryFactory, MalUserFactory
from tests.helpers import assert_error, json_ok, stored_rows

pytestmark = pytest.mark.django_db

ROUTES = [
    "/{u}/similar", "/{u}/compare/{o}", "/{u}/recommendations", "/{u}/recommendations/{o}",
    "/{u}/random",
]
OTHER_ROUTES = [r for r in ROUTES if "{o}" in r]
BAD_NAMES = [
    "a",                    # too short
    "a" * 17,               # too long
    "bad.name",             # a dot
    "bad%20name",           # a space
    "b%C3%A4d",             # a non-ASCII letter
    "ab%0A",                # a trailing newline ($ in a regex would let it through)
]


@pytest.fixture(autouse=True)
def no_mal(settings):
    settings.MAL_CLIENT_ID = ""


@pytest.fixture
def known(db):
    user = MalUserFactory(username="known_user")
    ListEntryFactory(user=user, anime=AnimeFactory())
    MalUserFactory(username="other_user", hash=0x4000_0000_0000_0000)
    return user


@pytest.fixture
def changes_nothing(known):
    """The test's requests must leave every stored row as it was (no user fetched or
    forgotten, no neighbour snapshot stored): checked after the test."""
    before = stored_rows()
    yield
    assert stored_rows() == before


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", BAD_NAMES)
def test_it_rejects_an_invalid_username(client, changes_nothing, route, name):
    response = client.get(route.format(u=name, o="other_user"))
    assert_error(response, 400, "InvalidUsername")


@pytest.mark.parametrize("route", OTHER_ROUTES)
@pytest.mark.parametrize("name", BAD_NAMES)
def test_it_rejects_an_invalid_other_username_before_fetching_anyone(client, changes_nothing,
                                                                     route, name):
    # The requester is unknown (it would need MyAnimeList); the bad other name wins.
    response = client.get(route.format(u="never_seen", o=name))
    assert_error(response, 400, "InvalidUsername")


@pytest.mark.parametrize("route", ROUTES)
def test_an_invalid_username_wins_over_a_bad_query(client, changes_nothing, route):
    response = client.get(route.format(u="x", o="other_user") + "?page=abc&batch=abc")
    assert_error(response, 400, "InvalidUsername")


@pytest.mark.parametrize("route", ROUTES)
def test_an_unknown_user_without_mal_access_is_a_503_saying_how_to_configure(
        client, changes_nothing, route):
    response = client.get(route.format(u="never_seen", o="other_user"))
    body = assert_error(response, 503, "MALUnavailable")
    assert "MAL_CLIENT_ID" in body["message"]


@pytest.mark.parametrize("route", OTHER_ROUTES)
def test_an_unknown_other_user_without_mal_access_is_a_503(client, changes_nothing, route):
    response = client.get(route.format(u="known_user", o="never_seen"))
    assert_error(response, 503, "MALUnavailable")


@pytest.mark.parametrize("route, query", [
    ("/known_user/similar", "page=abc"),
    ("/known_user/similar", "page=1.5"),
    ("/known_user/similar", "page=1e3"),
    ("/known_user/recommendations", "page=abc"),
    ("/known_user/recommendations", "batch=1.5"),
    ("/known_user/recommendations", "batch=abc&page=2"),
    ("/known_user/recommendations/other_user", "page=abc"),
    ("/known_user/random", "batch=1.5"),
    ("/known_user/random", "batch=two"),
])
def test_a_query_value_that_is_not_an_integer_is_invalid(client, changes_nothing, route,
                                                          query):
    assert_error(client.get(f"{route}?{query}"), 400, "InvalidQuery")


@pytest.mark.parametrize("route", ROUTES)
def test_a_bad_query_is_rejected_before_fetching_an_unknown_user(client, changes_nothing,
                                                                  route):
    response = client.get(route.format(u="never_seen", o="other_user") + "?page=x&batch=x")
    if "compare" in route:  # compare takes no query
        assert_error(response, 503, "MALUnavailable")
    else:
        assert_error(response, 400, "InvalidQuery")


@pytest.mark.parametrize("route", ROUTES)
def test_a_stored_user_without_a_hash_has_an_empty_list(client, known, route):
    MalUserFactory(username="only_planned", hash=None)
    before = stored_rows()
    response = client.get(route.format(u="only_planned", o="other_user"))
    assert_error(response, 422, "EmptyUserList")
    assert stored_rows() == before


@pytest.mark.parametrize("path", ["/nope", "/known_user", "/known_user/nope",
                                  "/known_user/similar/", "/known_user/compare",
                                  "/known_user/recommendations/a/b", "/api/version"])
def test_an_unknown_route_is_a_plain_text_404(client, known, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"Resource not found"
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/version", "/known_user/similar",
                                  "/known_user/recommendations", "/nope"])
def test_other_methods_are_a_plain_text_405(client, changes_nothing, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Content-Type"].startswith("text/plain")
    assert response["Access-Control-Allow-Origin"] == "*"


def test_head_and_options_are_allowed(client, known):
    assert client.head("/known_user/similar").status_code == 200
    response = client.options("/known_user/similar")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"


def test_a_client_over_the_rate_limit_gets_a_plain_text_503(client, known, settings):
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_RATE = "2/m"
    assert client.get("/version").status_code == 200
    assert client.get("/known_user/similar").status_code == 200
    response = client.get("/known_user/similar")
    assert response.status_code == 503
    assert response.content == b"Rate limited"
    assert response["Content-Type"].startswith("text/plain")
    assert 0 < int(response["Retry-After"]) <= 60
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_rate_limit_counts_each_client_apart(client, known, settings):
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_RATE = "1/m"
    assert client.get("/version", REMOTE_ADDR="10.0.0.1").status_code == 200
    assert client.get("/version", REMOTE_ADDR="10.0.0.1").status_code == 503
    assert client.get("/version", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_version_is_plain_text_with_the_cors_header(client):
    response = client.get("/version")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.content.decode().count(".") == 2


def test_an_unexpected_failure_is_a_json_500(client, known, monkeypatch):
    from recommendations import services

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "similar_page", boom)
    body = assert_error(client.get("/known_user/similar"), 500, "InternalError")
    assert "boom" not in body["message"]


def test_a_zero_hash_is_a_hash_failed_500(client, known, monkeypatch):
    from recommendations import views
    from reko.exceptions import HashFailed

    def failing(*args, **kwargs):
        raise HashFailed()

    monkeypatch.setattr(views, "user_for_request", failing)
    assert_error(client.get("/known_user/similar"), 500, "HashFailed")


def test_a_known_user_is_served_as_json(client, known):
    json_ok(client.get("/known_user/similar"))


def test_a_failure_outside_the_views_is_a_json_500_too(known, monkeypatch):
    from django.test import Client

    from reko import middleware

    def cache_down(*args, **kwargs):
        raise ConnectionError("cache is down")

    monkeypatch.setattr(middleware, "get_usage", cache_down)
    response = Client(raise_request_exception=False).get("/known_user/similar")
    assert_error(response, 500, "InternalError")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/administrator", "/admins/similar/x", "/staticfiles"])
def test_routes_that_only_start_like_the_admin_are_plain_text_404s(client, settings, debug, path):
    settings.DEBUG = debug
    response = client.get(path)
    assert response.status_code == 404
    assert response.content == b"Resource not found"


def test_the_admin_without_its_slash_still_redirects(client):
    response = client.get("/admin")
    assert response.status_code == 301 and response["Location"] == "/admin/"


@pytest.mark.parametrize("error_class, status, error_id", [
    ("PrivateUserList", 403, "PrivateUserList"),
    ("UserNotFound", 404, "UserNotFound"),
    ("EmptyUserList", 422, "EmptyUserList"),
    ("InvalidUserList", 422, "InvalidUserList"),
    ("HashFailed", 500, "HashFailed"),
    ("FailedSave", 500, "FailedSave"),
    ("MALUnavailable", 502, "MALUnavailable"),
    ("MALRateLimited", 503, "MALRateLimited"),
])
@pytest.mark.parametrize("route", ROUTES)
def test_each_domain_error_has_its_contract_status_and_id(client, monkeypatch, route,
                                                          error_class, status, error_id):
    from recommendations import views
    from reko import exceptions

    def failing(*args, **kwargs):
        raise getattr(exceptions, error_class)()

    monkeypatch.setattr(views, "user_for_request", failing)
    assert_error(client.get(route.format(u="someone", o="other_user")), status, error_id)


def test_a_throttled_mal_tells_when_to_retry(client, monkeypatch):
    from recommendations import views
    from reko.exceptions import MALRateLimited

    def failing(*args, **kwargs):
        raise MALRateLimited(retry_after=7)

    monkeypatch.setattr(views, "user_for_request", failing)
    response = client.get("/someone/similar")
    assert_error(response, 503, "MALRateLimited")
    assert response["Retry-After"] == "7"


def test_a_cors_preflight_is_answered_for_any_origin(client):
    response = client.options("/someone/similar", HTTP_ORIGIN="https://client.example",
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response["Access-Control-Allow-Methods"]
