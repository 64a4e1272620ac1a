"""A dataset small enough to work every answer out by hand (no database).

Catalog: anime 1-8. 5 has no mean and 6 has a parent, so neither is ever recommended;
7 and 8 are recommendable but nobody watched them.

  user      list (anime: score), all completed unless noted
  10 ann    1: 9, 2: 8, 5: 7, 6: 8
  11 bob    1: 8, 2: 9, 3: 7
  12 cid    1: 7, 3: 9, 6: 8
  13 dee    2: 6, 4: 8, 7 plan to watch (listed, not watched)

Users per anime (watched and scored): 1: 3, 2: 3, 3: 2, 4: 1, 5: 1, 6: 2.
"""
import numpy as np

from recommendations.engine.models.base import UserList
from recommendations.engine.ranking import Catalog
from recommendations.engine.taste_hash import SlotTable
from recommendations.evaluation.dataset import Dataset, ListEntries

RECOMMENDABLE = {1, 2, 3, 4, 7, 8}
LISTS = {
    10: [(1, 9), (2, 8), (5, 7), (6, 8)],
    11: [(1, 8), (2, 9), (3, 7)],
    12: [(1, 7), (3, 9), (6, 8)],
    13: [(2, 6), (4, 8)],
}
NAMES = {10: "ann", 11: "bob", 12: "cid", 13: "dee"}
T0 = 1_500_000_000.0


def catalog() -> Catalog:
    return Catalog.from_arrays(
        ids=np.arange(1, 9), mean=[8.0, 7.5, 7.0, 6.0, np.nan, 9.0, 6.5, 8.5],
        has_parent=[False] * 5 + [True] + [False] * 2)


def dataset() -> Dataset:
    rows = [(user, anime, score, True) for user, entries in LISTS.items()
            for anime, score in entries] + [(13, 7, 0, False)]
    user_ids, anime_ids, scores, watched = (np.array(column) for column in zip(*rows))
    entries = ListEntries(
        user_ids=user_ids.astype(np.int64), anime_ids=anime_ids.astype(np.int64),
        scores=scores.astype(np.int64), watched=watched.astype(bool),
        updated=T0 - 60.0 * np.arange(len(rows)))
    # Two hash slots per anime, different for each, so users get different hashes.
    slots = SlotTable([[anime, anime + 20] for anime in range(1, 9)])
    return Dataset(user_ids=np.array(list(NAMES), dtype=np.int64),
                   usernames=np.array(list(NAMES.values())), entries=entries,
                   catalog=catalog(), slots=slots)


def user_list(listed: list[int], *, scores: dict | None = None, user_id=None,
              user_hash=None) -> UserList:
    """A list of these anime, all watched and scored (8 unless ``scores`` says)."""
    scores = scores or {}
    anime = np.array(listed, dtype=np.int64)
    return UserList(anime_ids=anime, scores=np.array([scores.get(a, 8) for a in listed],
                                                     dtype=np.int64),
                    updated=np.full(len(listed), T0), listed_anime_ids=anime,
                    hash=user_hash, user_id=user_id)
