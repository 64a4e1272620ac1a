"""One log line and one latency sample per request.

The line says what an operator looks for first: status, method, path, duration and the
client as the rate limiter sees it (through ``TRUSTED_PROXY_COUNT`` proxies). The path
is logged percent-encoded, so a client cannot write a line break or a forged line into
the log. The latency sample is labelled by the route pattern, never the raw path, so the
metrics stay bounded whatever clients ask for.
"""
import logging
import time

from django.conf import settings
from django.utils.encoding import escape_uri_path

from reko import metrics
from reko.middleware import client_ip, resolved_route

logger = logging.getLogger("reko.requests")


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        metrics.observe_request(_route(request), request.method, response.status_code, seconds)
        logger.info("%s %s %s %.1fms client=%s", response.status_code, request.method,
                    escape_uri_path(request.path), seconds * 1000, client_ip(request))
        return response


def _route(request) -> str:
    # The route also of a request answered before routing (a redirect, a 405, a 503).
    match = request.resolver_match or resolved_route(request)
    if match is not None:
        return match.route
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"  # a static file (whitenoise)
    return "unresolved"
