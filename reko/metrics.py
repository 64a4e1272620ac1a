"""Prometheus metrics: what is measured, and the ``/metrics`` scrape.

Under gunicorn every worker writes its samples to ``PROMETHEUS_MULTIPROC_DIR`` (set by
gunicorn.conf.py) and a scrape adds up all workers (prometheus_client's multiprocess
mode); a single process (runserver, tests) serves its own registry.

Who may scrape: with ``METRICS_TOKEN`` set, a request bearing ``Authorization: Bearer
<token>``; without it, only a request from this machine (a loopback socket address)
that no proxy forwarded, so a forgotten token never publishes the metrics.
"""
import hmac
import ipaddress
import os

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter,
                               Gauge, Histogram, generate_latest, multiprocess)

FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")
KNOWN_METHODS = {"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"}
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

REQUEST_SECONDS = Histogram(
    "reko_http_request_duration_seconds", "Time to answer a request, by route and status.",
    ["route", "method", "status"], buckets=SECONDS)
MAL_REQUEST_SECONDS = Histogram(
    "reko_mal_request_duration_seconds",
    "MyAnimeList HTTP calls (each retry is a call), by outcome.", ["outcome"],
    buckets=SECONDS)
MAL_BUDGET_WAIT_SECONDS = Histogram(
    "reko_mal_budget_wait_seconds",
    "Time a MyAnimeList call waited for its slot of the shared request budget.",
    buckets=(0, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60))
MAL_BUDGET_REFUSALS = Counter(
    "reko_mal_budget_refusals_total",
    "MyAnimeList calls refused because the budget's queue was longer than allowed.")
INDEX_USERS = Gauge(
    "reko_index_users", "Users in the similarity index (largest over live workers).",
    multiprocess_mode="livemax")
INDEX_BUILD_SECONDS = Histogram(
    "reko_index_build_seconds", "Time to build a process's similarity index.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160))
INDEX_LAST_POLL = Gauge(
    "reko_index_last_poll_timestamp_seconds",
    "When the index last looked for changes (oldest over live workers); age = time() - it.",
    multiprocess_mode="livemin")


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    method = method if method in KNOWN_METHODS else "other"  # bounded label values
    REQUEST_SECONDS.labels(route=route, method=method, status=str(status)).observe(seconds)


def metrics_view(request):
    if settings.METRICS_TOKEN:
        given = request.META.get("HTTP_AUTHORIZATION", "").encode()
        if not hmac.compare_digest(given, f"Bearer {settings.METRICS_TOKEN}".encode()):
            response = HttpResponse("Unauthorized", status=401,
                                    content_type="text/plain; charset=utf-8")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _from_this_machine(request):
        return HttpResponse("Resource not found", status=404,
                            content_type="text/plain; charset=utf-8")
    response = HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


def _from_this_machine(request) -> bool:
    if any(request.META.get(header) for header in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _registry():
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
