"""What the item-based models share: the anime they know as matrix columns, the users'
entries as a 0/1 matrix over those columns, and the final pick of the top ``k``.

Inputs may be any anime (a sequel says a lot about taste); what comes out is only ever
recommendable (a mean, no parent) and never on the user's list.
"""
from dataclasses import dataclass

import numpy as np

from recommendations.engine.models.base import Interactions, Scored, UserList
from recommendations.engine.ranking import Catalog

# Users per block when the item-item co-occurrence matrix is summed: bounds the dense
# block (users x items float32) whatever the number of users.
GRAM_BLOCK_USERS = 2048


@dataclass(frozen=True)
class ItemSpace:
    """Anime ids known to a model, ascending, with how many users have each."""

    anime_ids: np.ndarray  # int64, ascending
    user_counts: np.ndarray  # int64

    @classmethod
    def from_interactions(cls, interactions: Interactions, *, max_items: int | None = None,
                          min_users: int = 1) -> "ItemSpace":
        """The anime of the entries; with ``max_items``, only the most watched (ties: lower
        id) so that a model's dense matrices stay bounded."""
        pairs = _unique_pairs(interactions)
        anime_ids, counts = np.unique(pairs[:, 1], return_counts=True)
        keep = counts >= min_users
        anime_ids, counts = anime_ids[keep], counts[keep]
        if max_items is not None and len(anime_ids) > max_items:
            chosen = np.lexsort((anime_ids, -counts))[:max_items]
            chosen.sort()
            anime_ids, counts = anime_ids[chosen], counts[chosen]
        return cls(anime_ids=anime_ids.astype(np.int64), user_counts=counts.astype(np.int64))

    def __len__(self) -> int:
        return len(self.anime_ids)

    def columns_of(self, anime_ids) -> np.ndarray:
        """Column of each anime id, -1 for anime the model does not know."""
        anime_ids = np.asarray(anime_ids, dtype=np.int64).ravel()
        if not len(self.anime_ids):
            return np.full(len(anime_ids), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.anime_ids, anime_ids), len(self.anime_ids) - 1)
        return np.where(self.anime_ids[at] == anime_ids, at, -1)

    def user_columns(self, user: UserList) -> np.ndarray:
        """Columns of the user's watched, scored anime that the model knows, each once."""
        columns = self.columns_of(user.anime_ids)
        return np.unique(columns[columns >= 0])

    def scores_from(self, weights: np.ndarray, user: UserList) -> np.ndarray:
        """The user's 0/1 row times an items x items ``weights`` matrix, as the sum of
        the rows of their anime: a few hundred rows read instead of the whole matrix."""
        return weights[self.user_columns(user)].sum(axis=0, dtype=np.float64)

    def cooccurrence(self, interactions: Interactions) -> np.ndarray:
        """``X.T @ X`` of the 0/1 users x items matrix: how many users have both anime.

        Returns
        -------
        ndarray of float64, shape (len(self), len(self))
        """
        pairs = _unique_pairs(interactions)
        columns = self.columns_of(pairs[:, 1])
        known = columns >= 0
        users, user_rows = np.unique(pairs[known, 0], return_inverse=True)
        columns = columns[known]
        gram = np.zeros((len(self), len(self)), dtype=np.float64)
        for start in range(0, len(users), GRAM_BLOCK_USERS):
            in_block = (user_rows >= start) & (user_rows < start + GRAM_BLOCK_USERS)
            block = np.zeros((min(GRAM_BLOCK_USERS, len(users) - start), len(self)),
                             dtype=np.float32)
            block[user_rows[in_block] - start, columns[in_block]] = 1.0
            # Added as float32 (exact: counts up to a block's users), cast in the add:
            # a float64 copy of the product would be one more matrix of the full size.
            gram += block.T @ block
        return gram


def _unique_pairs(interactions: Interactions) -> np.ndarray:
    """``(user, anime)`` rows, each pair once."""
    pairs = np.column_stack([np.asarray(interactions.user_ids, dtype=np.int64),
                             np.asarray(interactions.anime_ids, dtype=np.int64)])
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)


def top_k(items: ItemSpace, scores: np.ndarray, catalog: Catalog, user: UserList,
          k: int) -> Scored:
    """The ``k`` best-scored recommendable anime not on the user's list.

    Ties (every score of a user with an empty list, say) go to the anime more users have,
    then to the lower id, so the answer is deterministic and never arbitrary.
    """
    rows = catalog.rows_of_ids(items.anime_ids)
    allowed = rows >= 0
    allowed[allowed] = catalog.recommendable[rows[allowed]]
    listed = items.columns_of(user.listed_anime_ids)
    allowed[listed[listed >= 0]] = False
    candidates = np.flatnonzero(allowed)
    if k <= 0 or not len(candidates):
        return Scored(anime_ids=np.zeros(0, np.int64), scores=np.zeros(0, np.float64))
    order = np.lexsort((items.anime_ids[candidates], -items.user_counts[candidates],
                        -np.asarray(scores, dtype=np.float64)[candidates]))[:k]
    chosen = candidates[order]
    return Scored(anime_ids=items.anime_ids[chosen].astype(np.int64),
                  scores=np.asarray(scores, dtype=np.float64)[chosen])
