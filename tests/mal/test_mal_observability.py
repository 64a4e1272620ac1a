"""Each MyAnimeList call is logged and counted by outcome; budget waits are measured."""
import logging
import re

import pytest
from django.test import Client

from tests.mal.conftest import make_list
from tests.metrics_scrape import scrape, total
from users import mal_client

CALLS = "reko_mal_request_duration_seconds_count"
LINE = re.compile(r"^MAL call GET (\S+) status=(\S+) (\d+)ms retry=(\d+)$")


def mal_lines(caplog) -> list[tuple]:
    return [LINE.match(r.getMessage()).groups() for r in caplog.records
            if r.name == "users.mal_client" and r.getMessage().startswith("MAL call")]


def test_a_retried_call_logs_and_counts_every_attempt(fake_mal, caplog):
    caplog.set_level(logging.INFO, logger="users.mal_client")
    metrics = Client()
    fake_mal.add_user("bob", make_list(3))
    fake_mal.fail("/v2/users/bob", 503, times=1)
    before = scrape(metrics)

    assert len(mal_client.user_animelist("bob")) == 3

    after = scrape(metrics)
    assert [(path, status, retry) for path, status, _ms, retry in mal_lines(caplog)] == [
        ("/v2/users/bob/animelist", "503", "0"), ("/v2/users/bob/animelist", "200", "1")]
    for outcome in ("server_error", "ok"):
        assert total(after, CALLS, outcome=outcome) - total(before, CALLS, outcome=outcome) == 1
    waits = "reko_mal_budget_wait_seconds_count"
    assert total(after, waits) - total(before, waits) == 2


@pytest.mark.parametrize("status, outcome", [(404, "not_found"), (403, "forbidden"),
                                             (429, "throttled"), (418, "http_error")])
def test_calls_are_counted_by_outcome(fake_mal, settings, status, outcome):
    settings.MAL_MAX_RETRIES = 0
    metrics = Client()
    fake_mal.fail("/v2/users/bob", status)
    before = total(scrape(metrics), CALLS, outcome=outcome)

    with pytest.raises(mal_client.MalError):
        mal_client.user_animelist("bob")

    assert total(scrape(metrics), CALLS, outcome=outcome) == before + 1


def test_a_timeout_is_logged_as_such(fake_mal, settings, caplog):
    caplog.set_level(logging.INFO, logger="users.mal_client")
    settings.MAL_READ_TIMEOUT = 0.2
    settings.MAL_MAX_RETRIES = 0
    fake_mal.add_user("bob", make_list(1))
    fake_mal.slow["/v2/users/bob"] = 1.0

    with pytest.raises(mal_client.MalUnavailable):
        mal_client.user_animelist("bob")

    assert [status for _path, status, _ms, _retry in mal_lines(caplog)] == ["timeout"]
