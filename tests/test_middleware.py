"""The contract's cross-cutting HTTP rules that live in reko/middleware.py."""
import pytest

from reko.middleware import _period_seconds, client_ip


@pytest.mark.parametrize("rate, seconds", [
    ("2/m", 60), ("120/m", 60), ("10/s", 1), ("5/h", 3600), ("100/d", 86400),
    ("100/5m", 300), ("3/10s", 10),
])
def test_retry_after_is_the_length_of_the_rate_window(rate, seconds):
    assert _period_seconds(rate) == seconds


def test_a_405_names_the_allowed_methods(client):
    response = client.post("/version")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.django_db
def test_the_admin_is_neither_rate_limited_nor_method_filtered(client, settings):
    settings.RATELIMIT_RATE = "1/m"
    for _ in range(3):
        assert client.get("/admin/login/").status_code == 200
    # Django's own login form handles the POST (a CSRF failure here, not the API's 405).
    assert client.post("/admin/login/").status_code != 405


def test_client_ip_is_the_socket_address_without_trusted_proxies(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4", REMOTE_ADDR="10.0.0.9")
    assert client_ip(request) == "10.0.0.9"


def test_client_ip_is_taken_from_the_right_behind_one_proxy(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forged "6.6.6.6"; the router appended the address it saw.
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4", REMOTE_ADDR="10.0.0.9")
    assert client_ip(request) == "1.2.3.4"


def test_client_ip_falls_back_to_the_socket_on_a_garbled_header(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", HTTP_X_FORWARDED_FOR="not-an-ip", REMOTE_ADDR="10.0.0.9")
    assert client_ip(request) == "10.0.0.9"


def test_clients_behind_the_same_proxy_have_separate_budgets(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATELIMIT_RATE = "1/m"
    first = client.get("/version", HTTP_X_FORWARDED_FOR="1.1.1.1")
    again = client.get("/version", HTTP_X_FORWARDED_FOR="1.1.1.1")
    other = client.get("/version", HTTP_X_FORWARDED_FOR="2.2.2.2")
    assert (first.status_code, again.status_code, other.status_code) == (200, 503, 200)
