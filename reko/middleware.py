"""Cross-cutting HTTP rules of the contract that sit outside DRF.

- responses of the API routes carry ``Access-Control-Allow-Origin: *`` (plain-text errors
  and preflights included), through django-cors-headers;
- API routes answer 405 in plain text to methods other than GET, HEAD and OPTIONS;
- API routes are rate limited per client IP with a plain-text 503 and ``Retry-After``;
- the admin's login form is rate limited per client IP (a plain-text 429).

Which rule applies is decided by the route Django resolves the request to, never by the
shape of the path: ``/admin/similar`` is the API's ``similar`` route for the MAL user
``admin``, and is limited like any other. Only the admin's own views (and a view marked
with ``rate_limit_exempt``) are left to Django's behaviour.
"""
import ipaddress

from corsheaders.middleware import ACCESS_CONTROL_ALLOW_ORIGIN, CorsMiddleware
from django.conf import settings
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django_ratelimit.core import get_usage

from reko import shared_cache

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ADMIN_NAMESPACE = "admin"
ADMIN_LOGIN_ROUTE = "admin:login"
_UNRESOLVED = object()


def rate_limit_exempt(view):
    """Mark a view (a health probe, say) as outside the client request rate limit."""
    view.rate_limit_exempt = True
    return view


def resolved_route(request):
    """The ``ResolverMatch`` this request will be routed to, or None for no route.

    Resolved once per request from ``path_info`` (percent-decoded), exactly as Django's
    handler will: any spelling of a path that reaches a view is judged by that view.
    """
    match = getattr(request, "_reko_route", _UNRESOLVED)
    if match is _UNRESOLVED:
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            match = None
        request._reko_route = match
    return match


def is_admin_route(request) -> bool:
    match = resolved_route(request)
    return match is not None and ADMIN_NAMESPACE in match.namespaces


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


class ApiCorsMiddleware(CorsMiddleware):
    """django-cors-headers on every route but the admin's.

    The contract promises ``Access-Control-Allow-Origin: *`` on every API response, also
    to a client that sends no ``Origin`` (the library only answers requests that do).
    """

    def is_enabled(self, request) -> bool:
        return not is_admin_route(request)

    def add_response_headers(self, request, response):
        response = super().add_response_headers(request, response)
        if getattr(request, "_cors_enabled", False):
            # Written as the original API spelled it (the library writes it lower-case).
            value = response.get(ACCESS_CONTROL_ALLOW_ORIGIN, "*")
            del response[ACCESS_CONTROL_ALLOW_ORIGIN]
            response["Access-Control-Allow-Origin"] = value
        return response


class ApiMethodMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS and not is_admin_route(request):
            response = _plain("Method not allowed", 405)
            response["Allow"] = "GET, HEAD, OPTIONS"
            return response
        return self.get_response(request)


class ApiRateLimitMiddleware:
    """Per-IP request budgets held in the shared cache: ``RATELIMIT_RATE`` (e.g. ``120/m``)
    on every route but the admin's, ``ADMIN_LOGIN_RATE`` on posts of the admin's login form.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.RATELIMIT_ENABLE:
            limited = self._limited(request)
            if limited is not None:
                return limited
        return self.get_response(request)

    def _limited(self, request) -> HttpResponse | None:
        match = resolved_route(request)
        if match is not None and ADMIN_NAMESPACE in match.namespaces:
            if match.view_name != ADMIN_LOGIN_ROUTE or request.method != "POST":
                return None
            wait = retry_after_if_limited(request, "admin-login", settings.ADMIN_LOGIN_RATE)
            if wait is None:
                return None
            response = _plain(f"Too many login attempts. Try again in {wait} seconds.", 429)
        else:
            if match is not None and getattr(match.func, "rate_limit_exempt", False):
                return None
            wait = retry_after_if_limited(request, "api", settings.RATELIMIT_RATE)
            if wait is None:
                return None
            response = _plain("Rate limited", 503)
        response["Retry-After"] = str(wait)
        return response


def retry_after_if_limited(request, group: str, rate: str, *, key="ip") -> int | None:
    """Count this request against the client's budget; ``None`` while within it, else the
    whole seconds until the client's current window ends and the count starts over.
    ``key`` names the client (django-ratelimit's key: the IP by default).

    django-ratelimit's windows are fixed (aligned to the epoch, shifted per client) and its
    count key changes once the clock passes the window's last second, ``time_left`` away.
    """
    try:
        usage = shared_cache.call(get_usage, request, group=group, key=key, rate=rate,
                                  increment=True)
    except shared_cache.CacheDown:
        return None  # no count to go by while the cache is down: serve (README)
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, usage["time_left"] + 1)


def client_ip(request) -> str:
    """The client's address for rate limiting, through ``TRUSTED_PROXY_COUNT`` proxies.

    Only the addresses that trusted proxies appended are believed: a client can put
    anything at the left of its own X-Forwarded-For, and with no trusted proxy the header
    is ignored altogether.
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
