"""Health probes for load balancers, answered ahead of the rest of the middleware.

- ``/health/live``: the process answers (no I/O). A failure means: restart it.
- ``/health/ready``: this process can serve the API: the database answers and the
  similarity index is built. 503 until then; a failure means: send no traffic here.
  The shared cache is checked and reported, but a cache outage alone keeps the process
  ready: the API still answers from the database and the index without it.

Probes (and the metrics scrape) come by the machine's address over plain HTTP from inside
the network, often many times a minute, so ``ProbeMiddleware`` answers them before the
host check (``ALLOWED_HOSTS``), the HTTPS redirect, the client rate limit and the request
log. They read nothing from the request but its path and method.
"""
import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse

from recommendations import live_index
from reko.metrics import metrics_view

logger = logging.getLogger(__name__)

OK, UNAVAILABLE, BUILDING = "ok", "unavailable", "building"
CACHE_PROBE_KEY = "health:probe"


def live(request):
    return _json({"status": "ok"}, 200)


def ready(request):
    checks = {"database": _database(), "cache": _cache(), "index": _index()}
    if checks["database"] != OK or checks["index"] != OK:
        return _json({"status": "not ready", "checks": checks}, 503)
    status = "ready" if checks["cache"] == OK else "degraded"
    return _json({"status": status, "checks": checks}, 200)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return OK
    except Exception as error:  # a probe answers; it never fails
        logger.warning("Readiness: the database is unavailable (%s)", type(error).__name__)
        return UNAVAILABLE


def _cache() -> str:
    try:
        cache.get(CACHE_PROBE_KEY)
        return OK
    except Exception as error:
        logger.warning("Readiness: the cache is unavailable (%s)", type(error).__name__)
        return UNAVAILABLE


def _index() -> str:
    if live_index.is_built():
        return OK
    # gunicorn builds it when a worker starts; any other server (runserver) starts here.
    live_index.build_in_background()
    return BUILDING


def _json(body: dict, status: int) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


ROUTES = {"/health/live": live, "/health/ready": ready, "/metrics": metrics_view}


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = ROUTES.get(request.path_info)
        if view is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse("Method not allowed", status=405,
                                    content_type="text/plain; charset=utf-8")
            response["Allow"] = "GET, HEAD"
            return response
        return view(request)
