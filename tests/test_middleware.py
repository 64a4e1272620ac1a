"""The contract's cross-cutting HTTP rules that live in reko/middleware.py: which routes are
rate limited and method filtered (decided by the resolved route, never the path's shape),
Retry-After, CORS, the security headers on early answers, proxies, the admin login."""
import zlib

import pytest
from django.contrib.auth.models import User

from reko.middleware import client_ip
from tests.factories import MalUserFactory
from tests.helpers import json_ok

pytestmark = pytest.mark.django_db

RATE_LIMITED = b"Rate limited"


def _is_rate_limited(response) -> bool:
    return response.status_code == 503 and response.content == RATE_LIMITED


# --- which routes the limit covers --------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/admin/similar", "/admin/compare/x", "/admin/recommendations", "/admin/random",
    "/static/random", "/static/similar",
    # other spellings of the same routes, or of none
    "/ADMIN/similar", "/%61dmin/similar", "/admin%2Fsimilar", "//admin/similar",
    "/static/x.css", "/demo_user/similar/", "/nope",
])
def test_no_path_steps_around_the_client_rate_limit(client, settings, path):
    settings.RATELIMIT_RATE = "2/m"
    responses = [client.get(path) for _ in range(3)]
    assert [_is_rate_limited(r) for r in responses] == [False, False, True], \
        [(r.status_code, r.content[:60]) for r in responses]


def test_every_spelling_of_a_route_draws_on_one_budget(client, settings):
    settings.RATELIMIT_RATE = "4/m"
    shapes = ["/someone/similar", "/SOMEONE/similar", "/some%6Fne/similar", "/someone/similar/"]
    assert not any(_is_rate_limited(client.get(path)) for path in shapes)
    assert _is_rate_limited(client.get("/someone/similar"))


@pytest.mark.parametrize("name", ["admin", "static"])
def test_admin_and_static_are_ordinary_mal_usernames(client, name):
    MalUserFactory(username=name, hash=0x8000_0000_0000_0001)
    body = json_ok(client.get(f"/{name}/similar"))
    assert body["requester"] == {"username": name, "hash": "8000000000000001"}
    assert json_ok(client.get(f"/{name}/compare/{name}"))["data"]["similarity"] == 100


def test_an_admin_url_reaches_the_admin_and_no_api_view(client, settings):
    settings.RATELIMIT_RATE = "1/m"
    for _ in range(2):  # the admin's own catch-all: a redirect to its login, nothing looked up
        response = client.get("/admin/similar/")
        assert response.status_code == 302
        assert response["Location"] == "/admin/login/?next=/admin/similar/"


def test_the_admin_is_neither_rate_limited_nor_method_filtered(client, settings):
    settings.RATELIMIT_RATE = "1/m"
    for _ in range(3):
        response = client.get("/admin/login/")
        assert response.status_code == 200 and b'name="password"' in response.content
    # Django's own login form handles the POST: the form again, with its error.
    response = client.post("/admin/login/", {"username": "nobody", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter the correct username and password" in response.content


@pytest.mark.parametrize("path", ["/admin/similar", "/static/random", "/ADMIN/similar/", "/nope"])
def test_other_methods_get_the_plain_405_whatever_the_path(client, path):
    response = client.post(path)
    assert response.status_code == 405
    assert response.content == b"Method not allowed"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_a_view_marked_exempt_is_not_counted(client, settings, monkeypatch):
    from django.urls import path

    from reko import middleware, urls
    from recommendations.views import version

    exempt = middleware.rate_limit_exempt(lambda request: version(request))
    monkeypatch.setattr(urls, "urlpatterns", [path("probe", exempt), *urls.urlpatterns])
    from django.urls import clear_url_caches
    clear_url_caches()
    settings.RATELIMIT_RATE = "1/m"
    try:
        assert [client.get("/probe").status_code for _ in range(3)] == [200, 200, 200]
        assert client.get("/version").status_code == 200
        assert _is_rate_limited(client.get("/version"))
    finally:
        monkeypatch.undo()
        clear_url_caches()


# --- Retry-After ------------------------------------------------------------------------

class FrozenClock:
    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    from django_ratelimit import core
    frozen = FrozenClock(0.0)
    monkeypatch.setattr(core, "time", frozen)
    return frozen


def _window_end(ip: str, period: int, now: int) -> int:
    """django-ratelimit's window for a client: aligned to the epoch, shifted by a per-client
    offset (worked out here from its documented rule, not by calling it)."""
    offset = zlib.crc32(ip.encode()) % period
    end = now - now % period + offset
    return end + period if end < now else end


def test_retry_after_is_the_time_until_the_window_really_resets(client, settings, clock):
    settings.RATELIMIT_RATE = "2/m"
    base = 1_800_000_000 - 1_800_000_000 % 60
    end = _window_end("127.0.0.1", 60, base + 30)
    clock.now = end - 9  # 9 seconds before the window's last second
    assert [client.get("/version").status_code for _ in range(2)] == [200, 200]
    limited = client.get("/version")
    assert _is_rate_limited(limited)
    assert limited["Retry-After"] == "10"
    clock.now = end  # the window's last second: still counted in it
    last = client.get("/version")
    assert _is_rate_limited(last) and last["Retry-After"] == "1"
    clock.now = end + 1  # exactly Retry-After after the limited answer: a new window
    assert client.get("/version").status_code == 200


def test_retry_after_of_a_per_second_limit_is_one_second(client, settings, clock):
    settings.RATELIMIT_RATE = "1/s"
    clock.now = 1_800_000_000.25
    assert client.get("/version").status_code == 200
    limited = client.get("/version")
    assert _is_rate_limited(limited) and limited["Retry-After"] == "1"
    clock.now += 1
    assert client.get("/version").status_code == 200


# --- CORS and security headers -----------------------------------------------------------

@pytest.mark.parametrize("origin", [{}, {"HTTP_ORIGIN": "https://client.example"}])
def test_every_contract_answer_allows_any_origin(client, settings, origin):
    settings.RATELIMIT_RATE = "2/m"  # 405s and preflights are answered before counting
    answers = {
        "json": client.get("/someone/similar", **origin),  # 503 MAL not configured, JSON
        "404": client.get("/someone/nothing/here", **origin),
        "405": client.post("/version", **origin),
        "preflight": client.options("/someone/similar", HTTP_ORIGIN="https://client.example",
                                    HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"),
    }
    answers["503"] = client.get("/version", **origin)
    assert [r.status_code for r in answers.values()] == [503, 404, 405, 200, 503]
    assert answers["json"]["Content-Type"] == "application/json"
    assert _is_rate_limited(answers["503"])
    for kind, response in answers.items():
        assert response["Access-Control-Allow-Origin"] == "*", kind


def test_the_admin_answers_no_cors_headers(client):
    for response in (client.get("/admin/login/", HTTP_ORIGIN="https://evil.example"),
                     client.get("/admin/login/"),
                     client.options("/admin/login/", HTTP_ORIGIN="https://evil.example",
                                    HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")):
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Methods" not in response


def test_early_answers_carry_the_security_headers(client, settings):
    settings.RATELIMIT_RATE = "1/m"
    refused = client.post("/version")
    client.get("/version")
    limited = client.get("/version")
    assert (refused.status_code, _is_rate_limited(limited)) == (405, True)
    for response in (refused, limited):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


# --- proxies ------------------------------------------------------------------------------

@pytest.mark.parametrize("proxies, forwarded, expected", [
    (0, "1.2.3.4", "10.0.0.9"),  # no trusted proxy: the header is the client's own word
    (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # "6.6.6.6" forged; the router appended 1.2.3.4
    (2, "6.6.6.6, 1.2.3.4, 10.1.1.1", "1.2.3.4"),
    (1, "not-an-ip", "10.0.0.9"),  # garbled: fall back to the socket
])
def test_client_ip_believes_only_what_trusted_proxies_appended(
        rf, settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.9")
    assert client_ip(request) == expected


def test_with_no_trusted_proxy_a_client_cannot_pick_its_address(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.RATELIMIT_RATE = "2/m"
    statuses = [client.get("/version", HTTP_X_FORWARDED_FOR=f"9.9.9.{i}").status_code
                for i in range(3)]
    assert statuses == [200, 200, 503]


def test_behind_one_proxy_a_forged_left_part_changes_nothing(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATELIMIT_RATE = "2/m"
    statuses = [client.get("/version", HTTP_X_FORWARDED_FOR=f"9.9.9.{i}, 1.1.1.1").status_code
                for i in range(3)]
    assert statuses == [200, 200, 503]


def test_clients_behind_the_same_proxy_have_separate_budgets(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATELIMIT_RATE = "1/m"
    first = client.get("/version", HTTP_X_FORWARDED_FOR="1.1.1.1")
    again = client.get("/version", HTTP_X_FORWARDED_FOR="1.1.1.1")
    other = client.get("/version", HTTP_X_FORWARDED_FOR="2.2.2.2")
    assert (first.status_code, again.status_code, other.status_code) == (200, 503, 200)


# --- the admin login ----------------------------------------------------------------------

def test_posts_of_the_admin_login_are_rate_limited(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ADMIN_LOGIN_RATE = "2/m"
    settings.RATELIMIT_RATE = "100/m"
    User.objects.create_superuser("boss", password="right-password")
    wrong = {"username": "boss", "password": "guess"}
    assert [client.post("/admin/login/", wrong).status_code for _ in range(2)] == [200, 200]
    refused = client.post("/admin/login/", {"username": "boss", "password": "right-password"})
    assert refused.status_code == 429
    assert refused.content.startswith(b"Too many login attempts. Try again in ")
    assert int(refused["Retry-After"]) >= 1
    assert "_auth_user_id" not in client.session  # the right password did not get in either
    # The login page itself and the API stay open to this client.
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/version").status_code == 200
