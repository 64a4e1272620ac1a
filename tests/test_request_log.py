"""One log line per request (reko/request_log.py)."""
import logging
import re

import pytest

LINE = re.compile(r"^(\d{3}) (\S+) (\S+) (\d+\.\d)ms client=(\S+)$")


def request_lines(caplog) -> list[tuple]:
    return [LINE.match(r.getMessage()).groups() for r in caplog.records
            if r.name == "reko.requests"]


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="reko.requests")
    return caplog


def test_a_request_is_one_line_with_status_method_path_duration_and_client(client, log):
    client.get("/version")
    [(status, method, path, _ms, ip)] = request_lines(log)
    assert (status, method, path, ip) == ("200", "GET", "/version", "127.0.0.1")


def test_the_client_is_the_one_the_rate_limiter_sees(client, log, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.get("/nothing/here/at/all", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4")
    [(status, _method, _path, _ms, ip)] = request_lines(log)
    assert (status, ip) == ("404", "198.51.100.4")


def test_a_path_cannot_write_a_line_of_its_own(client, log):
    client.get("/x%0A200 GET /forged 1.0ms client=1.1.1.1/similar")
    [line] = [r.getMessage() for r in log.records if r.name == "reko.requests"]
    assert "\n" not in line and "/x%0A200%20GET%20/forged" in line
