"""/metrics (reko/metrics.py): what it counts, and who may read it."""
import time

import pytest

from recommendations import live_index
from tests.factories import MalUserFactory
from tests.metrics_scrape import scrape, total

COUNT = "reko_http_request_duration_seconds_count"


def test_requests_are_counted_by_route_method_and_status(client):
    before = scrape(client)
    client.get("/version")
    client.get("/version")
    client.post("/version")
    after = scrape(client)

    def added(**labels):
        return total(after, COUNT, **labels) - total(before, COUNT, **labels)

    assert added(route="version", method="GET", status="200") == 2
    # Answered before the view (the API's 405), still labelled by its route.
    assert added(route="version", method="POST", status="405") == 1


def test_a_made_up_method_does_not_make_a_new_label(client):
    client.generic("BREW", "/version")
    assert total(scrape(client), COUNT, method="other") >= 1
    assert total(scrape(client), COUNT, method="BREW") == 0


@pytest.mark.django_db
def test_the_index_reports_its_users_build_and_last_poll(client):
    for number in range(3):
        MalUserFactory(hash=number + 1)
    builds = total(scrape(client), "reko_index_build_seconds_count")
    started = time.time()

    live_index.current_index()

    after = scrape(client)
    assert total(after, "reko_index_users") == 3
    assert total(after, "reko_index_build_seconds_count") == builds + 1
    assert total(after, "reko_index_last_poll_timestamp_seconds") >= int(started)


def test_without_a_token_only_this_machine_may_scrape(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    elsewhere = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert (elsewhere.status_code, elsewhere.content) == (404, b"Resource not found")
    # A proxy on this machine forwarding a client from outside.
    forwarded = client.get("/metrics", REMOTE_ADDR="127.0.0.1",
                           HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forwarded.status_code == 404


def test_with_a_token_only_its_bearer_may_scrape(client, settings):
    settings.METRICS_TOKEN = "scrape-token-0123"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    allowed = client.get("/metrics", REMOTE_ADDR="203.0.113.9",
                         HTTP_AUTHORIZATION="Bearer scrape-token-0123")
    assert allowed.status_code == 200
    assert allowed["Content-Type"].startswith("text/plain; version=")
