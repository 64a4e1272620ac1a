"""Reads of MAL users on the request path."""
import threading

from django.db import connection

from recommendations import live_index
from recommendations.lru import LruDict
from reko.raw_rows import instance_from_row, select_columns
from users.models import MalUser

# Users (with a hash) whose rows this process keeps, by name.
KNOWN_USERS = 16_384


class _KnownUsers:
    """Stored users this process read lately, forgotten as soon as its index sees them
    change: every write of a user goes through the index's change feed, so a kept row is
    exactly as current as the index the request is served from."""

    def __init__(self, size: int):
        self._users = LruDict(size)
        self._lock = threading.Lock()
        self.generation = 0  # moves on every forgetting

    def get(self, name: str) -> MalUser | None:
        return self._users.get(name)

    def keep(self, user: MalUser, read_in_generation: int) -> None:
        with self._lock:
            # A row read before a change was applied, but kept after, would outlive it.
            if read_in_generation == self.generation:
                self._users.put(user.username, user)

    def forget(self, usernames) -> None:
        with self._lock:
            self.generation += 1
            if usernames is None:
                self._users.clear()
            else:
                for name in usernames:
                    self._users.discard(name)


_known = _KnownUsers(KNOWN_USERS)
live_index.on_user_changes(_known.forget)


def mal_user_by_name(name: str) -> MalUser | None:
    """The stored user with this (normalised) name, or None.

    Plain SQL on the unique index, once per process and user until the user changes:
    every API request looks up one or two users, and compiling the equivalent ORM query
    took longer than running it.
    """
    live_index.current_index()  # applies changes due, this process's own writes first
    user = _known.get(name)
    if user is not None:
        return user
    generation = _known.generation
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select_columns(MalUser)} FROM {MalUser._meta.db_table} "
                       "WHERE username = %s", [name])
        row = cursor.fetchone()
    if row is None:
        return None
    user = instance_from_row(MalUser, row)
    if user.hash is not None:  # a user without one is not in the index, nor its feed's news
        _known.keep(user, generation)
    return user
