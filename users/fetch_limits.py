"""What keeps requests that cost MyAnimeList calls from holding the web workers.

A never-seen user is fetched inside the request, and MAL may be slow. So:

* a user MAL said does not exist is answered 404 from the cache for
  ``MAL_NOT_FOUND_CACHE_SECONDS`` instead of being asked again;
* each client may cost MAL calls only ``MAL_FETCH_RATE`` times (e.g. ``10/m``), much less
  than its request allowance: beyond it a new user is a 503 ``MALRateLimited`` and a
  stale known user is served from the stored copy;
* at most ``MAL_CONCURRENT_FETCHES`` first fetches run at once across the deployment (a
  request waiting for another's fetch of the same user counts too): beyond that, a 503
  ``MALUnavailable`` with ``Retry-After``, so the other workers' threads stay free for
  every other route.
"""
import contextlib

from django.conf import settings
from django.core.cache import cache

from reko import shared_cache
from reko.cache_locks import Slots, SlotsFull, release
from reko.exceptions import MALRateLimited, MALUnavailable
from reko.middleware import retry_after_if_limited

NOT_FOUND_KEY = "mal:not-found:{}"
FETCH_SLOTS = "mal:first-fetch-slot"
SLOTS_FULL_RETRY_AFTER = 10
SLOTS_FULL = ("Many lists are being fetched from MyAnimeList right now. "
              "Please try again in a few seconds.")
CLIENT_ALLOWANCE = ("You asked for many users that are new here: each costs requests to "
                    "MyAnimeList. Please try again later.")


def known_missing(name: str) -> bool:
    """Whether MAL said lately that this user does not exist."""
    return shared_cache.call(cache.get, NOT_FOUND_KEY.format(name)) is not None


def remember_missing(name: str) -> None:
    seconds = settings.MAL_NOT_FOUND_CACHE_SECONDS
    if seconds > 0:
        try:
            shared_cache.call(cache.set, NOT_FOUND_KEY.format(name), 1, timeout=seconds)
        except shared_cache.CacheDown:
            pass  # only a shortcut: MAL will be asked again


def client_allowance_wait(client: str | None) -> int | None:
    """Count one MAL-costing request of ``client`` (an IP); ``None`` while within its
    ``MAL_FETCH_RATE``, else the seconds until it may cost MAL calls again."""
    if client is None:  # not a web request (a command): no client allowance
        return None
    return retry_after_if_limited(None, "mal-fetch", settings.MAL_FETCH_RATE,
                                  key=lambda group, request: client)


def check_client_allowance(client: str | None) -> None:
    wait = client_allowance_wait(client)
    if wait is not None:
        raise MALRateLimited(CLIENT_ALLOWANCE, retry_after=wait)


@contextlib.contextmanager
def first_fetch_slot():
    """Hold one of the deployment's ``MAL_CONCURRENT_FETCHES`` slots (0: no bound)."""
    count = settings.MAL_CONCURRENT_FETCHES
    if count <= 0:
        yield
        return
    slots = Slots(FETCH_SLOTS, count, timeout=settings.MAL_SYNC_LOCK_SECONDS)
    try:
        key, token = slots.take()
    except SlotsFull:
        raise MALUnavailable(SLOTS_FULL, status=503,
                             retry_after=SLOTS_FULL_RETRY_AFTER) from None
    try:
        yield
    finally:
        release(key, token)
