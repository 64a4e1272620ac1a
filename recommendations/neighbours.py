"""Which neighbour list a request is served from.

The index answers "who is nearest now" in well under a millisecond, so a request is served
from the current population unless a stored list cannot hide anyone for long:

* a request that starts a walk (similar page 1, recommendation batch 1 page 1, random
  batch 1) always gets the current list, and stores it when it differs from the stored
  one, so the pages that follow read the same list;
* a later page reuses the stored list (this process's copy, else the user's
  ``SimilaritySnapshot``) while it is from the same hash, younger than
  ``SIMILARITY_PAGING_WINDOW_SECONDS`` (at most a minute) and holds as many neighbours as
  the index could give now; otherwise it gets the current list too.

So a user who joins appears at once on the first pages, and on the later pages of a walk
within the paging window plus ``INDEX_POLL_SECONDS``. Storing a list is best-effort: it
is derived data, and a busy database skips the write (logged) instead of failing the read.
"""
import logging
import time
import weakref
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import DatabaseError

from recommendations import live_index, selectors
from recommendations.engine.user_index import UserIndex
from recommendations.lru import LruDict

logger = logging.getLogger(__name__)

NEIGHBOURS_KEPT = live_index.NEIGHBOURS_KEPT
# However it is configured, a stored list never hides a newcomer for longer than this.
MAX_PAGING_WINDOW_SECONDS = 60.0
# Lists this process remembers (about 11.5 kB each: ids as int64, distances as uint8).
REMEMBERED_USERS = 2048


@dataclass(frozen=True)
class Neighbours:
    """One consistent neighbour list: user ids, most similar first, with distances."""

    ids: np.ndarray
    distances: np.ndarray

    def window(self, number: int, size: int) -> "Neighbours":
        start = (number - 1) * size
        return Neighbours(self.ids[start:start + size], self.distances[start:start + size])

    def same_as(self, other: "Neighbours") -> bool:
        return np.array_equal(self.ids, other.ids) and np.array_equal(self.distances,
                                                                      other.distances)


@dataclass(frozen=True)
class StoredList:
    neighbours: Neighbours
    hash: int
    taken_at: float  # seconds since the epoch
    # The index it was computed against, when this process computed it: while that is
    # still the current index, the list is exactly what a new scan would give. A weak
    # reference: a remembered list must not keep an old index alive.
    index_ref: weakref.ref | None = None
    # Whether the user's snapshot holds this list (as far as this process knows).
    in_database: bool = True

    def computed_from(self, index: UserIndex) -> bool:
        return self.index_ref is not None and self.index_ref() is index


# The last lists this process served, by user id.
_remembered = LruDict(REMEMBERED_USERS)


def forget_all() -> None:
    """Drop this process's remembered lists (tests; the stored snapshots stay)."""
    _remembered.clear()


def neighbours_of(user, *, starts_walk: bool) -> Neighbours:
    """The neighbour list to serve ``user`` from (see the module docstring)."""
    state = live_index.current_index()
    index = state.users
    remembered = _remembered.get(user.id)
    if not starts_walk:
        stored = remembered
        if stored is None and _may_differ_from_a_scan(state):
            stored = _stored_snapshot(user)
        if stored is not None and _reusable(stored, user, index):
            if remembered is None:
                _remembered.put(user.id, stored)
            return stored.neighbours
    if remembered is not None and remembered.computed_from(index) \
            and remembered.hash == user.hash \
            and (remembered.in_database or not starts_walk):
        return remembered.neighbours  # nothing changed since it was computed
    ids, dists = index.nearest(user.hash, NEIGHBOURS_KEPT, exclude_id=user.id)
    current = Neighbours(ids.astype(np.int64), dists.astype(np.uint8))
    in_database = False
    if starts_walk:
        known = remembered if remembered is not None and remembered.in_database \
            else _stored_snapshot(user)
        in_database = (known is not None and known.hash == user.hash
                       and known.neighbours.same_as(current)) or _store(user, current)
    _remembered.put(user.id, StoredList(current, user.hash, time.time(), weakref.ref(index),
                                        in_database))
    return current


def _paging_window() -> float:
    return min(settings.SIMILARITY_PAGING_WINDOW_SECONDS, MAX_PAGING_WINDOW_SECONDS)


def _may_differ_from_a_scan(state) -> bool:
    """Whether a list stored within the paging window may differ from a scan of the index
    now. Not when the users have not changed for a whole window: every list still
    reusable was then computed from the same users (the database read is saved)."""
    return time.time() - state.users_changed_at < _paging_window()


def _reusable(stored: StoredList, user, index: UserIndex) -> bool:
    if stored.hash != user.hash:
        return False
    if stored.computed_from(index):
        return True
    if time.time() - stored.taken_at >= _paging_window():
        return False
    # A list shorter than the index could give now would hide whoever joined since.
    others = len(index) - (index.row_of(user.id) is not None)
    return len(stored.neighbours.ids) >= min(NEIGHBOURS_KEPT, others)


def _stored_snapshot(user) -> StoredList | None:
    snapshot = selectors.snapshot_of(user)
    if snapshot is None:
        return None
    return StoredList(
        Neighbours(np.asarray(snapshot.neighbour_ids, dtype=np.int64),
                   np.asarray(snapshot.distances, dtype=np.uint8)),
        snapshot.hash, snapshot.computed_at.timestamp())


def _store(user, neighbours: Neighbours) -> bool:
    """Store the list as the user's snapshot; whether that worked."""
    try:
        live_index.store_snapshot(user, neighbours.ids, neighbours.distances)
        return True
    except DatabaseError as error:
        # A record for the admin and for other workers' later pages: worth a retry on the
        # next walk, never worth failing this read.
        logger.warning("Neighbour list of %s not stored: %s", user.username, error)
        return False
