"""Schemathesis drives every route of /schema with generated input (in process, DEBUG off):
no 5xx, and every response, JSON or plain text, is one the schema describes. Generated
data is positive (what the schema allows) and negative (what it does not: those must be
refused with a 4xx)."""
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from recommendations import model_service
from reko.wsgi import application
from tests.factories import AnimeFactory
from tests.helpers import entry, user_at

# Per route; the whole file stays within a minute or two on one core.
EXAMPLES_PER_ROUTE = 60

# schemathesis calls the app as host "localhost", which production settings do not serve.
with override_settings(ALLOWED_HOSTS=["localhost"]):
    schema = schemathesis.openapi.from_wsgi("/schema?format=json", application)
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE,
                                       schemathesis.GenerationMode.NEGATIVE])


@pytest.fixture(autouse=True)
def served_as_localhost(settings):
    settings.ALLOWED_HOSTS = ["localhost"]


@pytest.fixture(autouse=True)
def test_transaction_outlives_requests():
    """As in Django's test client: a request must not close the connection that holds the
    test's transaction (schemathesis calls the WSGI handler itself)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def population(db, settings, tmp_path):
    """demo_user_001..040 with overlapping lists, so the examples answer real pages; the
    opt-in ranking trained on them (``?algorithm=``)."""
    anime = [AnimeFactory(id=i, genres=[1 + i % 9]) for i in range(1, 41)]
    for n in range(1, 41):
        user = user_at(n % 20, f"demo_user_{n:03d}")
        for item in anime[n % 9:n % 9 + 12]:
            entry(user, item, 1 + (n + item.id) % 10, years=(n % 5) / 2)
    settings.MODEL_DIR = str(tmp_path / "models")
    model_service.forget_models()
    model_service.train()
    yield
    model_service.forget_models()


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_route_answers_within_its_schema(case, population, fake_mal):
    # The readiness probe's 503 ("not ready" while the index builds) is its purpose; its
    # body is still checked against the schema.
    excluded = [not_a_server_error] if case.path == "/health/ready" else []
    case.call_and_validate(excluded_checks=excluded)
