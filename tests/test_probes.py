"""Health probes (reko/probes.py) through the test client."""
import pytest
from django.db import OperationalError, connection

from recommendations import live_index
from reko import probes
from tests.factories import MalUserFactory


@pytest.fixture
def build_requests(monkeypatch):
    """Builds the readiness probe asks for, recorded instead of run in a thread."""
    asked = []
    monkeypatch.setattr(live_index, "build_in_background", lambda: asked.append(True))
    return asked


def test_live_answers_without_any_database_or_cache_access(client):
    # No django_db mark: a query would fail the test.
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_is_503_until_the_index_is_built_and_asks_for_the_build(client, build_requests):
    MalUserFactory(hash=1)

    before = client.get("/health/ready")
    assert before.status_code == 503
    assert before.json() == {"status": "not ready", "checks": {
        "database": "ok", "cache": "ok", "index": "building"}}
    assert build_requests == [True]

    live_index.current_index()
    after = client.get("/health/ready")
    assert after.status_code == 200
    assert after.json() == {"status": "ready", "checks": {
        "database": "ok", "cache": "ok", "index": "ok"}}
    assert after["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_ready_is_503_when_the_database_fails(client, monkeypatch):
    live_index.current_index()

    def refused(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refused)
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"


@pytest.mark.django_db
def test_a_cache_outage_is_reported_but_keeps_the_process_ready(client, monkeypatch):
    live_index.current_index()

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(probes.cache, "get", down)
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {
        "database": "ok", "cache": "unavailable", "index": "ok"}}


@pytest.mark.django_db
def test_probes_are_outside_the_client_rate_limit(client, settings):
    settings.RATELIMIT_RATE = "1/m"
    live_index.current_index()
    assert client.get("/version").status_code == 200
    assert client.get("/version").status_code == 503
    for _ in range(3):
        assert client.get("/health/live").status_code == 200
        assert client.get("/health/ready").status_code == 200


def test_probes_answer_a_load_balancer_by_address_over_plain_http(client, settings):
    settings.ALLOWED_HOSTS = ["reko.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/version", HTTP_HOST="10.0.0.7").status_code == 400
    assert client.get("/version", HTTP_HOST="reko.example.org").status_code == 301
    assert client.get("/health/live", HTTP_HOST="10.0.0.7").status_code == 200


def test_probes_only_read(client):
    response = client.post("/health/live")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
