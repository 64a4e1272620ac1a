"""The contract's routes as DRF viewsets: validate, call one service, shape the envelope.

Responses are written from the services' plain dicts; the serializers in
``serializers.py`` describe those shapes for the OpenAPI schema.
"""
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from recommendations import serializers, services
from recommendations.pagination import ClampedPagePagination
from reko import API_VERSION
from users.services import normalize_username
from users.sync import user_for_request

ERRORS = {status: serializers.ErrorSerializer for status in (400, 403, 404, 422, 500, 502, 503)}


def _check_usernames(*usernames: str) -> None:
    """``InvalidUsername`` for any bad name in the path, before anyone is looked up or fetched."""
    for username in usernames:
        normalize_username(username)


def _query(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


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
    @extend_schema(parameters=[serializers.SimilarQuerySerializer],
                   responses={200: serializers.SimilarUserPageSerializer, **ERRORS})
    def list(self, request, username):
        _check_usernames(username)
        page = _query(serializers.SimilarQuerySerializer, request)["page"]
        user = user_for_request(username, refresh=True)
        data, has_next = services.similar_page(user, page)
        paginator = ClampedPagePagination(page=page, max_page=services.BATCH_MAX)
        return paginator.get_paginated_response(
            data, requester=services.requester_data(user), has_next=has_next)

    @extend_schema(responses={200: serializers.CompareSerializer, **ERRORS})
    def compare(self, request, username, other):
        _check_usernames(username, other)
        user = user_for_request(username, refresh=True)
        other_user = user_for_request(other, refresh=False)
        return Response({"requester": services.requester_data(user),
                         "data": services.compare(user, other_user)})


class RecommendationViewSet(ApiViewSet):
    @extend_schema(parameters=[serializers.BatchPageQuerySerializer],
                   responses={200: serializers.RecommendationPageSerializer, **ERRORS})
    def list(self, request, username):
        _check_usernames(username)
        query = _query(serializers.BatchPageQuerySerializer, request)
        user = user_for_request(username, refresh=True)
        data, has_next = services.recommendations_page(user, batch=query["batch"],
                                                       page=query["page"])
        paginator = ClampedPagePagination(page=query["page"],
                                          max_page=services.RECOMMENDATION_MAX_PAGE)
        return paginator.get_paginated_response(
            data, requester=services.requester_data(user), has_next=has_next)

    @extend_schema(parameters=[serializers.PageQuerySerializer],
                   responses={200: serializers.UserRecommendationPageSerializer, **ERRORS})
    def from_user(self, request, username, other):
        _check_usernames(username, other)
        page = _query(serializers.PageQuerySerializer, request)["page"]
        user = user_for_request(username, refresh=True)
        other_user = user_for_request(other, refresh=False)
        data, has_next = services.user_recommendations_page(user, other_user, page=page)
        paginator = ClampedPagePagination(page=page, max_page=services.RECOMMENDATION_MAX_PAGE)
        return paginator.get_paginated_response(
            data, requester=services.requester_data(user), has_next=has_next)

    @extend_schema(parameters=[serializers.BatchQuerySerializer],
                   responses={200: serializers.RandomRecommendationsSerializer, **ERRORS})
    def random(self, request, username):
        _check_usernames(username)
        batch = _query(serializers.BatchQuerySerializer, request)["batch"]
        user = user_for_request(username, refresh=True)
        return Response({"requester": services.requester_data(user),
                         "data": services.random_recommendations(user, batch=batch)})


def version(request):
    return HttpResponse(API_VERSION, content_type="text/plain")
