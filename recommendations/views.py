"""The contract's routes as DRF viewsets: validate, call one service, shape the envelope.

Responses are written from the services' plain dicts; the serializers in
``serializers.py`` describe those shapes for the OpenAPI schema.
"""
import functools

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from recommendations import model_service, serializers, services
from recommendations.pagination import ClampedPagePagination
from reko import API_VERSION
from reko.middleware import client_ip
from users.services import normalize_username
from users.sync import user_for_request

# What each error status means on an API route. JSON errors have the contract's shape; the
# plain-text ones come from the URL resolver and the middleware (reko-api.md, "Errors").
ERROR_MEANINGS = {
    400: "InvalidUsername or InvalidQuery: bad input, refused before any outside call.",
    403: "PrivateUserList: the MyAnimeList list is private.",
    404: "UserNotFound (JSON), or the plain text `Resource not found` for a path that no "
         "route matches (a name with a slash, for instance).",
    405: "Plain text, for any method other than GET, HEAD and OPTIONS.",
    422: "EmptyUserList or InvalidUserList: nothing usable in the list.",
    500: "HashFailed, FailedSave or InternalError.",
    502: "MALUnavailable: MyAnimeList refused our client or answered nonsense.",
    503: "MALUnavailable or MALRateLimited (JSON), or the plain text `Rate limited` with "
         "`Retry-After` when this client is over the request rate limit.",
}
PLAIN_TEXT_STATUSES = (404, 405, 503)
ERRORS = {
    **{(status, "application/json"): OpenApiResponse(serializers.ErrorSerializer, meaning)
       for status, meaning in ERROR_MEANINGS.items() if status != 405},
    **{(status, "text/plain"): OpenApiResponse(OpenApiTypes.STR, ERROR_MEANINGS[status])
       for status in PLAIN_TEXT_STATUSES},
}
RETRY_AFTER = OpenApiParameter(
    "Retry-After", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[503],
    description="Seconds to wait: always on the plain-text `Rate limited`, on a JSON 503 "
                "when MyAnimeList said when to come back.")


# users.models.USERNAME_RE in the ECMA-262 syntax that OpenAPI patterns use.
USERNAME_PATTERN = "^[A-Za-z0-9_-]{2,16}$"


def _username(name: str, example: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, str, OpenApiParameter.PATH, required=True, pattern=USERNAME_PATTERN,
        description="A MyAnimeList username, case-insensitive; anything that is not 2 to 16 "
                    "letters, digits, '_' or '-' is a 400 InvalidUsername.",
        examples=[OpenApiExample(example, value=example)])


REQUESTER = _username("username", "demo_user_001")
OTHER = _username("other", "demo_user_002")


def _check_usernames(*usernames: str) -> None:
    """``InvalidUsername`` for any bad name in the path, before anyone is looked up or fetched."""
    for username in usernames:
        normalize_username(username)


@functools.cache
def _query_fields(serializer_class) -> dict:
    """The query serializer's fields, bound once: a new serializer deep-copies its declared
    fields, which costs more than all the rest of a compare request's own work."""
    return dict(serializer_class().fields)


def _query(serializer_class, request) -> dict:
    """The validated query, as ``serializer_class`` would give it (errors under field names)."""
    values, errors = {}, {}
    for name, field in _query_fields(serializer_class).items():
        try:
            values[name] = field.run_validation(field.get_value(request.query_params))
        except ValidationError as error:
            errors[name] = error.detail
    if errors:
        raise ValidationError(errors)
    return values


def _trained_model(query: dict):
    """The trained model a request opted into (taken once: the whole request uses it), or
    None for the contract's ranking. Checked before the requester may be fetched."""
    algorithm = query.get("algorithm")
    return model_service.model_for(algorithm) if algorithm else None


class AlwaysJson(BaseContentNegotiation):
    """JSON whatever ``Accept`` or ``?format=`` says: the contract has no 406, and clients
    of the original API get JSON from every route."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ApiViewSet(viewsets.ViewSet):
    content_negotiation_class = AlwaysJson


class SimilarUserViewSet(ApiViewSet):
    @extend_schema(parameters=[serializers.SimilarQuerySerializer, REQUESTER, RETRY_AFTER],
                   responses={200: serializers.SimilarUserPageSerializer, **ERRORS})
    def list(self, request, username):
        _check_usernames(username)
        page = _query(serializers.SimilarQuerySerializer, request)["page"]
        user = user_for_request(username, refresh=True, client=client_ip(request))
        data, has_next = services.similar_page(user, page)
        paginator = ClampedPagePagination(page=page, max_page=services.BATCH_MAX)
        return paginator.get_paginated_response(
            data, requester=services.requester_data(user), has_next=has_next)

    @extend_schema(parameters=[REQUESTER, OTHER, RETRY_AFTER],
                   responses={200: serializers.CompareSerializer, **ERRORS})
    def compare(self, request, username, other):
        _check_usernames(username, other)
        user = user_for_request(username, refresh=True, client=client_ip(request))
        other_user = user_for_request(other, refresh=False, client=client_ip(request))
        return Response({"requester": services.requester_data(user),
                         "data": services.compare(user, other_user)})


class RecommendationViewSet(ApiViewSet):
    @extend_schema(parameters=[serializers.AlgorithmBatchPageQuerySerializer, REQUESTER,
                               RETRY_AFTER],
                   responses={200: serializers.RecommendationPageSerializer, **ERRORS})
    def list(self, request, username):
        _check_usernames(username)
        query = _query(serializers.AlgorithmBatchPageQuerySerializer, request)
        model = _trained_model(query)
        user = user_for_request(username, refresh=True, client=client_ip(request))
        if model is not None:
            data, has_next = model_service.recommendations_page(
                model, user, batch=query["batch"], page=query["page"])
        else:
            data, has_next = services.recommendations_page(user, batch=query["batch"],
                                                           page=query["page"])
        paginator = ClampedPagePagination(page=query["page"],
                                          max_page=services.RECOMMENDATION_MAX_PAGE)
        return paginator.get_paginated_response(
            data, requester=services.requester_data(user), has_next=has_next)

    @extend_schema(parameters=[serializers.PageQuerySerializer, REQUESTER, OTHER, RETRY_AFTER],
                   responses={200: serializers.UserRecommendationPageSerializer, **ERRORS})
    def from_user(self, request, username, other):
        _check_usernames(username, other)
        page = _query(serializers.PageQuerySerializer, request)["page"]
        user = user_for_request(username, refresh=True, client=client_ip(request))
        other_user = user_for_request(other, refresh=False, client=client_ip(request))
        data, has_next = services.user_recommendations_page(user, other_user, page=page)
        paginator = ClampedPagePagination(page=page, max_page=services.RECOMMENDATION_MAX_PAGE)
        return paginator.get_paginated_response(
            data, requester=services.requester_data(user), has_next=has_next)

    @extend_schema(parameters=[serializers.AlgorithmBatchQuerySerializer, REQUESTER,
                               RETRY_AFTER],
                   responses={200: serializers.RandomRecommendationsSerializer, **ERRORS})
    def random(self, request, username):
        _check_usernames(username)
        query = _query(serializers.AlgorithmBatchQuerySerializer, request)
        model = _trained_model(query)
        user = user_for_request(username, refresh=True, client=client_ip(request))
        if model is not None:
            data = model_service.random_recommendations(model, user, batch=query["batch"])
        else:
            data = services.random_recommendations(user, batch=query["batch"])
        return Response({"requester": services.requester_data(user), "data": data})


def version(request):
    return HttpResponse(API_VERSION, content_type="text/plain")
