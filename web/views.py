"""The page at ``/``: a template and static files, no database or index access, so it adds
nothing to the cost of the API routes that it calls from the browser."""
from django.shortcuts import render
from django.views.decorators.http import require_safe

from reko import API_VERSION
from reko.middleware import rate_limit_exempt

# The opt-in ranking the page offers beside the contract's (``?algorithm=...``). The page
# asks for it once and disables its switch when the API answers with an error (not trained
# yet, or unknown to this server).
OPT_IN_ALGORITHM = "scored_ease"

# The page needs its own scripts and styles only; pictures come from MyAnimeList's CDN.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


# Outside the clients' request budget: the page costs no query, and every call it makes
# from the browser is an API request counted as usual.
@rate_limit_exempt
@require_safe
def index(request):
    response = render(request, "web/index.html", {
        "api_version": API_VERSION,
        "opt_in_algorithm": OPT_IN_ALGORITHM,
    })
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["Referrer-Policy"] = "same-origin"
    return response
