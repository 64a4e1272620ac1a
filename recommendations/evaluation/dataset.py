"""Everyone's lists and the catalog as plain arrays, and the contract's taste hash of
every user computed from them at once."""
from dataclasses import dataclass

import numpy as np

from recommendations.engine.models.base import Interactions, UserList
from recommendations.engine.ranking import Catalog
from recommendations.engine.taste_hash import (
    MAX_ENTRIES, SlotTable, counters_for_users, hash_from_counters, latest_entries_mask,
)


@dataclass(frozen=True)
class ListEntries:
    """List entries of any status, one row per (user, anime)."""

    user_ids: np.ndarray  # int64
    anime_ids: np.ndarray  # int64
    scores: np.ndarray  # int64, 0 = not scored
    watched: np.ndarray  # bool: completed, or watching with an episode seen
    updated: np.ndarray  # float64, seconds since the epoch

    def __len__(self) -> int:
        return len(self.user_ids)

    def take(self, rows) -> "ListEntries":
        return ListEntries(self.user_ids[rows], self.anime_ids[rows], self.scores[rows],
                           self.watched[rows], self.updated[rows])

    @property
    def watched_scored(self) -> np.ndarray:
        """The entries that recommend and that the models learn from."""
        return self.watched & (self.scores > 0)

    def interactions(self) -> Interactions:
        rows = self.watched_scored
        return Interactions(user_ids=self.user_ids[rows], anime_ids=self.anime_ids[rows],
                            scores=self.scores[rows], updated=self.updated[rows])


@dataclass(frozen=True)
class Dataset:
    user_ids: np.ndarray  # int64, ascending
    usernames: np.ndarray  # str, row for row with user_ids
    entries: ListEntries
    catalog: Catalog
    slots: SlotTable  # hash slots of each catalog anime, row for row with catalog.ids

    def __post_init__(self):
        if len(self.slots) != len(self.catalog.ids):
            raise ValueError("slots must have one row per catalog anime")
        if len(self.usernames) != len(self.user_ids):
            raise ValueError("usernames must have one row per user")


def contract_hashes(entries: ListEntries, user_ids: np.ndarray, catalog: Catalog,
                    slots: SlotTable) -> np.ndarray:
    """Each user's taste hash as the service computes it: their latest ``MAX_ENTRIES``
    watched entries whose anime is in the catalog (ties in the update time: lower anime
    id), scored or not. 0 where nothing counts (such a user is not in the index).

    Returns
    -------
    ndarray of uint64, row for row with ``user_ids``
    """
    rows = catalog.rows_of_ids(entries.anime_ids)
    counted = np.flatnonzero(entries.watched & (rows >= 0))
    user_rows = np.searchsorted(user_ids, entries.user_ids[counted])
    # Ties in the update time go to the entry first in the arrays: the lower anime id.
    order = np.lexsort((entries.anime_ids[counted], user_rows))
    counted, user_rows = counted[order], user_rows[order]
    latest = latest_entries_mask(user_rows, entries.updated[counted], MAX_ENTRIES)
    counters = counters_for_users(
        user_rows=user_rows[latest], anime_rows=rows[counted[latest]],
        scores=entries.scores[counted[latest]], n_users=len(user_ids), table=slots)
    return hash_from_counters(counters)


@dataclass(frozen=True)
class ListsByUser:
    """Entries grouped by user, to hand one user's list to a model."""

    entries: ListEntries  # sorted by user
    user_ids: np.ndarray
    starts: np.ndarray
    stops: np.ndarray

    @classmethod
    def of(cls, entries: ListEntries, user_ids: np.ndarray) -> "ListsByUser":
        grouped = entries.take(np.argsort(entries.user_ids, kind="stable"))
        return cls(grouped, user_ids,
                   np.searchsorted(grouped.user_ids, user_ids, side="left"),
                   np.searchsorted(grouped.user_ids, user_ids, side="right"))

    def user_list(self, row: int, user_hash: int) -> UserList:
        mine = self.entries.take(slice(self.starts[row], self.stops[row]))
        used = mine.watched_scored
        return UserList(anime_ids=mine.anime_ids[used], scores=mine.scores[used],
                        updated=mine.updated[used], listed_anime_ids=mine.anime_ids,
                        hash=int(user_hash) or None, user_id=int(self.user_ids[row]))
