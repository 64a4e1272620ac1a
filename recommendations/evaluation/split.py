"""The protocol's split: test users lose a random share of the entries they liked.

A test user has at least ``MIN_ENTRIES`` watched, scored entries. They lose
``HIDDEN_SHARE`` of their watched entries scored ``LIKED_SCORE`` or more (rounded half
up, at least one), drawn at random; everything else about them, and every other user's
whole list, stays. The hidden anime that the contract could recommend (a mean, no
parent) are the ones a method should find. Each user's draw depends only on the seed
and their id, so sampling other test users leaves it unchanged.
"""
from dataclasses import dataclass

import numpy as np

from recommendations.engine.ranking import Catalog
from recommendations.evaluation.dataset import ListEntries

MIN_ENTRIES = 20
HIDDEN_SHARE = 0.2
LIKED_SCORE = 7


@dataclass(frozen=True)
class Split:
    train: ListEntries  # every entry but the hidden ones
    test_user_ids: np.ndarray  # int64, ascending
    relevant: list  # per test user, the hidden recommendable anime ids (int64, sorted)
    hidden_count: np.ndarray  # per test user, how many entries were hidden
    eligible_users: int  # users with enough entries, before sampling


def hidden_count(liked: int) -> int:
    """How many of ``liked`` entries a test user loses."""
    return max(1, int(np.floor(liked * HIDDEN_SHARE + 0.5))) if liked else 0


def split(entries: ListEntries, catalog: Catalog, *, seed: int,
          users: int | None = None) -> Split:
    """Hide part of the test users' lists (see module docstring).

    ``users``: sample this many test users among the eligible ones (all when None).
    Users none of whose hidden anime is recommendable keep their whole list and are
    not tested.
    """
    scored = entries.watched_scored
    counted_users, counts = np.unique(entries.user_ids[scored], return_counts=True)
    liked = scored & (entries.scores >= LIKED_SCORE)
    eligible = counted_users[counts >= MIN_ENTRIES]
    eligible = eligible[np.isin(eligible, entries.user_ids[liked])]
    chosen = eligible
    if users is not None and users < len(eligible):
        chosen = np.sort(np.random.default_rng(seed).choice(eligible, users, replace=False))
    rows = catalog.rows_of_ids(entries.anime_ids)
    recommendable = rows >= 0
    recommendable[recommendable] = catalog.recommendable[rows[recommendable]]

    hide = np.zeros(len(entries), dtype=bool)
    liked_rows = np.flatnonzero(liked & np.isin(entries.user_ids, chosen))
    liked_rows = liked_rows[np.argsort(entries.user_ids[liked_rows], kind="stable")]
    bounds = np.searchsorted(entries.user_ids[liked_rows], chosen, side="left"), \
        np.searchsorted(entries.user_ids[liked_rows], chosen, side="right")
    tested, relevant, hidden = [], [], []
    for user_id, start, stop in zip(chosen.tolist(), *bounds):
        # Drawn in anime id order, so the file order of the entries does not matter.
        mine = liked_rows[start:stop]
        mine = mine[np.argsort(entries.anime_ids[mine], kind="stable")]
        rng = np.random.default_rng([seed, user_id])
        drawn = rng.choice(mine, hidden_count(len(mine)), replace=False)
        found = np.sort(entries.anime_ids[drawn[recommendable[drawn]]])
        if not len(found):
            continue
        hide[drawn] = True
        tested.append(user_id)
        relevant.append(found.astype(np.int64))
        hidden.append(len(drawn))
    return Split(train=entries.take(~hide), test_user_ids=np.array(tested, dtype=np.int64),
                 relevant=relevant, hidden_count=np.array(hidden, dtype=np.int64),
                 eligible_users=len(eligible))
