"""Which stored user answers a request, fetching or refreshing from MyAnimeList as needed."""
from django.conf import settings

from reko.exceptions import EmptyUserList, MALUnavailable
from users.models import MalUser
from users.services import normalize_username

NOT_CONFIGURED = (
    "This user is not known here yet and MyAnimeList access is not configured: set "
    "MAL_CLIENT_ID to a MyAnimeList API client id (https://myanimelist.net/apiconfig)."
)


def user_for_request(username: str, *, refresh: bool) -> MalUser:
    """The stored user for ``username``, fetched from MAL if unknown.

    ``refresh`` also refreshes a known user whose list is stale (the requester does; the
    other user of compare and recommendations-from does not).
    """
    name = normalize_username(username)
    user = MalUser.objects.filter(username=name).first()
    if user is None:
        user = _fetch_new_user(name)
    if user.hash is None:
        raise EmptyUserList()
    return user


def _fetch_new_user(name: str) -> MalUser:
    if not settings.MAL_CLIENT_ID:
        raise MALUnavailable(NOT_CONFIGURED, status=503)
    raise MALUnavailable()
