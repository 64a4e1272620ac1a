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


CHECK = {"type": "string", "enum": ["ok", "unavailable", "building"]}
PROBE = {
    "type": "object", "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "ready", "degraded", "not ready"]},
        "checks": {"type": "object", "properties": {"database": CHECK, "cache": CHECK,
                                                    "index": CHECK}},
    },
}


def _probe(operation_id: str, summary: str, statuses: dict) -> dict:
    return {"get": {"operationId": operation_id, "summary": summary, "tags": ["health"],
                    "responses": {str(status): {"description": description,
                                                "content": {"application/json":
                                                            {"schema": PROBE}}}
                                  for status, description in statuses.items()}}}


PROBE_PATHS = {
    "/health/live": _probe("health_live", "The process answers", {200: "Alive."}),
    "/health/ready": _probe("health_ready", "The process can serve the API", {
        200: "Ready (`degraded` when the shared cache is down: the API still answers).",
        503: "Not ready: the database is down or the index is still being built."}),
}


def add_plain_routes(result, generator, request, public):
    """Describe ``/version`` and the health probes (not DRF views, so drf-spectacular does
    not see them)."""
    result = postprocess_schema_enums(result, generator, request=request, public=public)
    result["paths"] = {"/version": VERSION_PATH, **PROBE_PATHS, **result["paths"]}
    return result
