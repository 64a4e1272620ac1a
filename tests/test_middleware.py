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


def test_clients_behind_the_same_proxy_have_separate_budgets(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATELIMIT_RATE = "1/m"
    first = client.get("/version", HTTP_X_FORWARDED_FOR="1.1.1.1")
    again = client.get("/version", HTTP_X_FORWARDED_FOR="1.1.1.1")
    other = client.get("/version", HTTP_X_FORWARDED_FOR="2.2.2.2")
    assert (first.status_code, again.status_code, other.status_code) == (200, 503, 200)
