"""The protocol's split: test users lose a random share of the entries they liked.

A test user has at least ``MIN_ENTRIES`` watched, scored entries. They lose
``HIDDEN_SHARE`` of their watched entries scored ``LIKED_SCORE`` or more (rounded half
up, at least one), drawn at random; everything else about them, and every other user's
whole list, stays. The hidden anime that the contract could recommend (a mean, no
parent) are the ones a method should find. Each user's draw depends only on the seed
and their username, so sampling other test users leaves it unchanged, and the same lists
give the same split whether read from a file or from the database.

Other users keep their whole lists. Hiding every test user's entries at once would train
the methods on noticeably less than that (a fifth of the liked entries of nearly everyone
on the demo lists), so the test users are dealt into folds: a method is trained once per
fold, without only that fold's hidden entries, and asked for that fold's users.
"""
import zlib
from dataclasses import dataclass

import numpy as np

from recommendations.evaluation.dataset import Dataset, ListEntries

MIN_ENTRIES = 20
HIDDEN_SHARE = 0.2
LIKED_SCORE = 7


@dataclass(frozen=True)
class Split:
    entries: ListEntries  # everything, hidden entries included
    hidden: np.ndarray  # bool, row for row with entries
    test_user_ids: np.ndarray  # int64, in username order
    relevant: list  # per test user, the hidden recommendable anime ids (int64, sorted)
    hidden_count: np.ndarray  # per test user, how many entries were hidden
    eligible_users: int  # users with enough entries, before sampling

    @property
    def train(self) -> ListEntries:
        """Every entry but the hidden ones (every test user at once)."""
        return self.entries.take(~self.hidden)

    def train_without(self, test_users: np.ndarray) -> ListEntries:
        """Every entry but those hidden from these test users."""
        return self.entries.take(~(self.hidden & np.isin(self.entries.user_ids, test_users)))

    def folds(self, count: int, *, seed: int) -> list[np.ndarray]:
        """Positions of the test users dealt at random into ``count`` folds (fewer when
        there are fewer users, none without any), each in ascending order."""
        count = min(count, len(self.test_user_ids))
        dealt = np.random.default_rng([seed, count]).permutation(len(self.test_user_ids))
        return [np.sort(dealt[fold::count]) for fold in range(count)]


def hidden_count(liked: int) -> int:
    """How many of ``liked`` entries a test user loses."""
    return max(1, int(np.floor(liked * HIDDEN_SHARE + 0.5))) if liked else 0


def split(dataset: Dataset, *, seed: int, users: int | None = None) -> Split:
    """Hide part of the test users' lists (see module docstring).

    ``users``: sample this many test users among the eligible ones (all when None).
    Users none of whose hidden anime is recommendable keep their whole list and are
    not tested.
    """
    entries, catalog = dataset.entries, dataset.catalog
    scored = entries.watched_scored
    counted_users, counts = np.unique(entries.user_ids[scored], return_counts=True)
    liked = scored & (entries.scores >= LIKED_SCORE)
    eligible = counted_users[counts >= MIN_ENTRIES]
    eligible = eligible[np.isin(eligible, entries.user_ids[liked])]
    name_of = dict(zip(dataset.user_ids.tolist(), dataset.usernames.tolist()))
    eligible = np.array(sorted(eligible.tolist(), key=name_of.__getitem__), dtype=np.int64)
    chosen = eligible
    if users is not None and users < len(eligible):
        picked = np.random.default_rng(seed).choice(len(eligible), users, replace=False)
        chosen = eligible[np.sort(picked)]
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
        rng = np.random.default_rng([seed, zlib.crc32(name_of[user_id].encode())])
        drawn = rng.choice(mine, hidden_count(len(mine)), replace=False)
        found = np.sort(entries.anime_ids[drawn[recommendable[drawn]]])
        if not len(found):
            continue
        hide[drawn] = True
        tested.append(user_id)
        relevant.append(found.astype(np.int64))
        hidden.append(len(drawn))
    return Split(entries=entries, hidden=hide, test_user_ids=np.array(tested, dtype=np.int64),
                 relevant=relevant, hidden_count=np.array(hidden, dtype=np.int64),
                 eligible_users=len(eligible))
