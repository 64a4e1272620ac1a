"""Cross-cutting HTTP rules of the contract that sit outside DRF.

- every response carries ``Access-Control-Allow-Origin: *`` (plain-text errors included);
- API routes answer 405 in plain text to methods other than GET, HEAD and OPTIONS;
- API routes are rate limited per client IP with a plain-text 503 and ``Retry-After``.
The admin (``/admin/``) keeps Django's own behaviour for the last two.
"""
import ipaddress

from django.conf import settings
from django.http import HttpResponse
from django_ratelimit.core import is_ratelimited

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _is_api_path(path: str) -> bool:
    return not path.startswith(("/admin/", "/static/"))


class AllowAnyOriginMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Access-Control-Allow-Origin"] = "*"
        return response


class ApiMethodMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS and _is_api_path(request.path):
            response = HttpResponse("Method not allowed", status=405,
                                    content_type="text/plain; charset=utf-8")
            response["Allow"] = "GET, HEAD, OPTIONS"
            return response
        return self.get_response(request)


class ApiRateLimitMiddleware:
    """Per-IP request budget (``RATELIMIT_RATE``, e.g. ``120/m``) held in the shared cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.RATELIMIT_ENABLE and _is_api_path(request.path) and is_ratelimited(
            request, group="api", key="ip", rate=settings.RATELIMIT_RATE, increment=True
        ):
            response = HttpResponse("Rate limited", status=503,
                                    content_type="text/plain; charset=utf-8")
            # The window's length is an upper bound on the wait, and needs no private API.
            response["Retry-After"] = str(_period_seconds(settings.RATELIMIT_RATE))
            return response
        return self.get_response(request)


def _period_seconds(rate: str) -> int:
    count, _, unit = rate.partition("/")
    digits = "".join(ch for ch in unit if ch.isdigit()) or "1"
    return int(digits) * PERIOD_SECONDS[unit.lstrip("0123456789")[:1].lower()]


def client_ip(request) -> str:
    """The client's address for rate limiting, through ``TRUSTED_PROXY_COUNT`` proxies.

    Only the addresses that trusted proxies appended are believed: a client can put
    anything at the left of its own X-Forwarded-For.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if a.strip()]
    if proxies > 0 and forwarded:
        candidate = forwarded[-min(proxies, len(forwarded))]
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"
