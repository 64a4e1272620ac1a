"""The one API error shape, ``{"code", "id", "message"}``, and the DRF handler that writes it.

Services raise ``ApiError`` subclasses (plain exceptions that know their contract id and
HTTP status); DRF's own exceptions and anything unexpected are mapped here too, so every
JSON error has the same shape.
"""
import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ApiError(Exception):
    status = 500
    id = "InternalError"
    default_message = "Something went wrong on our side."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None,
                 status: int | None = None):
        self.message = message or self.default_message
        self.retry_after = retry_after
        if status is not None:
            self.status = status
        super().__init__(self.message)


class InvalidUsername(ApiError):
    status, id = 400, "InvalidUsername"
    default_message = (
        "Invalid username: MyAnimeList usernames are 2 to 16 letters, digits, '_' or '-'."
    )


class InvalidQuery(ApiError):
    status, id = 400, "InvalidQuery"
    default_message = "Invalid query parameter."


class PrivateUserList(ApiError):
    status, id = 403, "PrivateUserList"
    default_message = "This user's anime list is private on MyAnimeList."


class UserNotFound(ApiError):
    status, id = 404, "UserNotFound"
    default_message = "There is no MyAnimeList user with this name."


class EmptyUserList(ApiError):
    status, id = 422, "EmptyUserList"
    default_message = "This user's anime list has no watched anime to match on."


class InvalidUserList(ApiError):
    status, id = 422, "InvalidUserList"
    default_message = "This user's anime list could not be read."


class HashFailed(ApiError):
    status, id = 500, "HashFailed"
    default_message = "Could not compute a taste hash from this user's list."


class FailedSave(ApiError):
    status, id = 500, "FailedSave"
    default_message = "The user could not be stored. Please try again."


class MALUnavailable(ApiError):
    status, id = 502, "MALUnavailable"
    default_message = "MyAnimeList is unavailable right now. Please try again later."


class MALRateLimited(ApiError):
    status, id = 503, "MALRateLimited"
    default_message = "MyAnimeList is throttling our requests. Please try again shortly."


def error_body(status: int, error_id: str, message: str) -> dict:
    return {"code": status, "id": error_id, "message": message}


def _response(status: int, error_id: str, message: str, retry_after=None) -> Response:
    response = Response(error_body(status, error_id, message), status=status)
    if retry_after is not None:
        response["Retry-After"] = str(int(retry_after))
    return response


def _first_detail(detail) -> str:
    if isinstance(detail, dict):
        key, value = next(iter(detail.items()))
        return f"{key}: {_first_detail(value)}"
    if isinstance(detail, list):
        return _first_detail(detail[0]) if detail else "invalid"
    return str(detail)


def api_exception_handler(exc, context):
    if isinstance(exc, ApiError):
        if exc.status >= 500:
            logger.warning("API error %s: %s", exc.id, exc.message)
        return _response(exc.status, exc.id, exc.message, exc.retry_after)
    if isinstance(exc, drf_exceptions.ValidationError):
        return _response(400, InvalidQuery.id, _first_detail(exc.detail))
    if isinstance(exc, (Http404, drf_exceptions.NotFound)):
        return _response(404, "NotFound", "Resource not found.")
    if isinstance(exc, (PermissionDenied, drf_exceptions.PermissionDenied)):
        return _response(403, "Forbidden", "You may not do this.")
    response = drf_exception_handler(exc, context)
    if response is not None:
        error_id = "".join(part.title() for part in exc.default_code.split("_"))
        return _response(response.status_code, error_id, _first_detail(exc.detail),
                         response.get("Retry-After"))
    logger.exception("Unhandled error in %s", context.get("view"))
    return _response(500, ApiError.id, ApiError.default_message)
