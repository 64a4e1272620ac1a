"""Calls to the shared cache (Redis in production) that survive the cache being down.

The API's data lives in the database and the in-memory index; the cache only holds what
the processes must agree on: client rate-limit counters, the MAL request budget and the
one-fetch-per-user locks. When Redis cannot be reached each of those degrades on its own
terms (see their callers and the README): ``call`` turns the client library's errors into
``CacheDown``, and after a failure the cache is left alone for ``RETRY_SECONDS``, so that
the requests of an outage do not each wait for a connection timeout first.
"""
import logging
import threading
import time

from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
CACHE_ERRORS = (ConnectionInterrupted, RedisError)

_lock = threading.Lock()
_down_until = 0.0


class CacheDown(Exception):
    """The shared cache did not answer (now, or within the last ``RETRY_SECONDS``)."""


def call(operation, *args, **kwargs):
    """``operation(*args, **kwargs)`` on the cache, or ``CacheDown``."""
    global _down_until
    if time.monotonic() < _down_until:
        raise CacheDown("the shared cache was unreachable moments ago")
    try:
        return operation(*args, **kwargs)
    except CACHE_ERRORS as error:
        with _lock:
            _down_until = time.monotonic() + RETRY_SECONDS
        logger.warning("The shared cache is unreachable (%s: %s); carrying on without it "
                       "for %.0f s", type(error).__name__, error, RETRY_SECONDS)
        raise CacheDown(str(error)) from error


def reset() -> None:
    """Forget a remembered outage (tests)."""
    global _down_until
    _down_until = 0.0
