"""Additions to the generated OpenAPI schema for routes that are not DRF views."""
from drf_spectacular.hooks import postprocess_schema_enums

VERSION_PATH = {
    "get": {
        "operationId": "version",
        "summary": "The API version",
        "tags": ["version"],
        "responses": {
            "200": {"description": "The version, e.g. `1.0.0`.",
                    "content": {"text/plain": {"schema": {"type": "string",
                                                          "pattern": r"^\d+\.\d+\.\d+$"}}}},
            "405": {"description": "Plain text, for any method other than GET, HEAD and OPTIONS.",
                    "content": {"text/plain": {"schema": {"type": "string"}}}},
            "503": {"description": "Plain text `Rate limited`, with `Retry-After`, when this "
                                   "client is over the request rate limit.",
                    "content": {"text/plain": {"schema": {"type": "string"}}}},
        },
    },
}


def add_plain_routes(result, generator, request, public):
    """Describe ``/version`` (a plain Django view, so drf-spectacular does not see it)."""
    result = postprocess_schema_enums(result, generator, request=request, public=public)
    result["paths"] = {"/version": VERSION_PATH, **result["paths"]}
    return result
