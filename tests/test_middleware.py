"""The contract's cross-cutting HTTP rules that live in reko/middleware.py."""
import pytest

from reko.middleware import _period_seconds


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
