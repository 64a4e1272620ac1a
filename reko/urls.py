"""Root URLs: the API first (its patterns are exact, without trailing slashes), then the
admin, the OpenAPI schema and its docs page, then the contract's plain-text 404 for
everything else (a URL pattern rather than ``handler404``, so it holds with DEBUG on as
well). The health probes and ``/metrics`` are answered before routing (``reko.probes``)."""
from django.contrib import admin
from django.http import HttpResponseNotFound, JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from reko.exceptions import ApiError, error_body


def not_found(request, exception=None):
    return HttpResponseNotFound("Resource not found", content_type="text/plain; charset=utf-8")


def server_error(request):
    """A failure outside the DRF views (middleware, cache, database): the same JSON shape."""
    return JsonResponse(error_body(500, ApiError.id, ApiError.default_message), status=500)


urlpatterns = [
    path("", include("web.urls")),
    path("", include("recommendations.urls")),
    path("admin/", admin.site.urls),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^(?!admin(/|$)|static/)", not_found),
]

handler404 = not_found
handler500 = server_error
