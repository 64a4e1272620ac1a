"""Locks and counted slots held in the shared cache (Redis in production).

A lock is a key added only if absent (``cache.add``) with a token only its holder knows
and a lifetime, so that a crashed holder cannot block others for ever. Releasing must be
a compare-and-delete: a holder whose lock expired must not delete the lock that another
process took since. On Redis that is one Lua script (atomic on the server); with any
other cache, which is per process, every add and release of these keys goes through one
process-wide lock instead.
"""
import threading
import uuid

from django.core.cache import cache

from reko import shared_cache

RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
_local = threading.Lock()


def new_token() -> str:
    return uuid.uuid4().hex


def _redis_client():
    """django-redis's own client (key names and value encoding), or None for another cache."""
    client = getattr(cache, "client", None)
    return client if hasattr(client, "get_client") and hasattr(client, "encode") else None


def acquire(key: str, token: str, *, timeout: float) -> bool:
    """Take ``key`` for ``timeout`` seconds (rounded up) unless someone holds it."""
    seconds = max(1, int(-(-timeout // 1)))
    if _redis_client() is not None:
        return bool(shared_cache.call(cache.add, key, token, timeout=seconds))
    with _local:
        return bool(cache.add(key, token, timeout=seconds))


def release(key: str, token: str) -> bool:
    """Give ``key`` back if ``token`` still holds it; ``False`` if it expired or another took it."""
    client = _redis_client()
    if client is not None:
        try:
            return bool(shared_cache.call(_release_on_redis, client, key, token))
        except shared_cache.CacheDown:
            return False  # the lock expires by itself at the end of its lifetime
    with _local:
        if cache.get(key) != token:
            return False
        cache.delete(key)
        return True


def _release_on_redis(client, key: str, token: str) -> int:
    redis = client.get_client(write=True)
    return redis.eval(RELEASE_SCRIPT, 1, str(client.make_key(key)), client.encode(token))


class SlotsFull(Exception):
    """Every slot of a ``Slots`` is held."""


class Slots:
    """At most ``count`` holders at once across every process sharing the cache (a
    counting semaphore made of ``count`` locks); each slot expires after ``timeout``."""

    def __init__(self, name: str, count: int, *, timeout: float):
        self.name, self.count, self.timeout = name, count, timeout

    def take(self) -> tuple[str, str]:
        """A held slot as ``(key, token)``; ``SlotsFull`` when all are taken."""
        token = new_token()
        for number in range(self.count):
            key = f"{self.name}:{number}"
            if acquire(key, token, timeout=self.timeout):
                return key, token
        raise SlotsFull(self.name)
