"""Recommendation ranking over in-memory arrays (no Django).

The formulas are the contract's (reko-api.md, "Page sizes and ordering"):
- from a batch of similar users, an anime ranks by
  ``sum(scores) / (count + 1) - floor(mean years since those entries were updated / 2)``;
- from one user, by ``score - floor(years since the entry was updated / 2)``;
ties go to the higher anime mean, then the lower anime id.
"""
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from recommendations.engine.user_index import Entries

SECONDS_PER_YEAR = 365.25 * 24 * 3600
# lcm(1..36): a batch is 32 users, so an anime has at most 33 as denominator.
KEY_SCALE_UPTO = 36
KEY_SCALE = 144_403_552_893_600
KEY_SCALE_LIMIT = (1 << 62) // KEY_SCALE


@dataclass(frozen=True)
class Catalog:
    """What ranking needs of the anime catalog, as arrays sorted by anime id."""

    ids: np.ndarray  # int64, ascending
    mean: np.ndarray  # float64, NaN where the anime has no mean
    recommendable: np.ndarray  # bool: has a mean and no parent

    @classmethod
    def from_arrays(cls, *, ids, mean, has_parent) -> "Catalog":
        ids = np.asarray(ids, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        mean = np.asarray(mean, dtype=np.float64)[order]
        has_parent = np.asarray(has_parent, dtype=bool)[order]
        return cls(ids=ids[order], mean=mean, recommendable=~np.isnan(mean) & ~has_parent)

    @cached_property
    def row_by_id(self) -> np.ndarray:
        """Catalog row of every anime id up to the largest, -1 where none; one slot more,
        always -1, for the ids past the end (see ``rows_of_ids``)."""
        size = int(self.ids[-1]) + 2 if len(self.ids) else 1
        table = np.full(size, -1, dtype=np.int32)
        table[self.ids] = np.arange(len(self.ids), dtype=np.int32)
        return table

    @cached_property
    def mean_rank(self) -> np.ndarray:
        """Dense rank of each anime's mean, 0 for the highest (NaN last), as int64."""
        _, rank = np.unique(-self.mean, return_inverse=True)  # NaN sorts last
        return rank.astype(np.int64).reshape(-1)

    def rows_of_ids(self, anime_ids: np.ndarray) -> np.ndarray:
        """Catalog row of each anime id, -1 for ids not in the catalog (a table look-up,
        cheap for the few thousand entries of a batch)."""
        table = self.row_by_id
        anime_ids = np.asarray(anime_ids)
        clipped = np.clip(anime_ids, -1, len(table) - 1)
        return table[clipped]


@dataclass(frozen=True)
class Ranking:
    """Ranked anime; ``contributors`` lists, per ranked anime, who recommended it.

    ``anime_ids[i]`` has mean score ``scores[i]`` from the entries
    ``contributor_owner[contrib_indptr[i]:contrib_indptr[i + 1]]`` (owner = position of
    the user in the batch, most similar first) with ``contributor_score`` alongside.
    """

    anime_ids: np.ndarray
    scores: np.ndarray
    contrib_indptr: np.ndarray
    contributor_owner: np.ndarray
    contributor_score: np.ndarray

    def __len__(self) -> int:
        return len(self.anime_ids)

    def contributors(self, i: int):
        start, stop = self.contrib_indptr[i], self.contrib_indptr[i + 1]
        return self.contributor_owner[start:stop], self.contributor_score[start:stop]


def _candidates(entries: Entries, catalog: Catalog, exclude_anime_ids) -> tuple:
    """Which entries may recommend (see module docstring), and their catalog rows."""
    rows = catalog.rows_of_ids(entries.anime_ids)
    if not len(catalog.ids):
        return np.zeros(len(rows), dtype=bool), rows
    keep = (rows >= 0) & (entries.scores > 0)
    keep &= catalog.recommendable[rows]  # rows of -1 read the last anime: already dropped
    exclude = np.asarray(exclude_anime_ids, dtype=np.int64).ravel()
    if exclude.size:
        # The requester's list as a mask over catalog rows (anime outside it never count).
        listed = np.zeros(len(catalog.ids) + 1, dtype=bool)
        listed[catalog.rows_of_ids(exclude)] = True
        listed[-1] = False
        keep &= ~listed[rows]
    return keep, rows


def rank_batch(entries: Entries, catalog: Catalog, *, exclude_anime_ids, now: float,
               ordered: bool = True) -> Ranking:
    """Rank what a batch of similar users recommends (see module docstring).

    Groups by catalog row with ``bincount`` (rows ascend with anime ids), so no sort is
    needed but the final order of the few thousand candidates. ``ordered=False`` leaves
    the candidates in anime id order and skips the formula, for a draw that weighs them
    by their anime's mean alone (``random_pick``).
    """
    keep, rows = _candidates(entries, catalog, exclude_anime_ids)
    owner, rows = entries.owner[keep], rows[keep]
    scores = entries.scores[keep].astype(np.int64)
    per_row = np.bincount(rows, minlength=len(catalog.ids))
    unique_rows = np.flatnonzero(per_row)
    position_of_row = np.empty(len(catalog.ids), dtype=np.int64)
    position_of_row[unique_rows] = np.arange(len(unique_rows))
    inverse = position_of_row[rows]
    count = per_row[unique_rows]
    total = np.bincount(inverse, weights=scores, minlength=len(unique_rows)).astype(np.int64)
    unique = catalog.ids[unique_rows]
    if ordered:
        years = _years_since(entries.updated[keep], now)
        mean_years = np.bincount(inverse, weights=years, minlength=len(unique_rows)) / \
            np.maximum(count, 1)
        key = _batch_key(total, count, np.floor(mean_years / 2).astype(np.int64))
        order = _order(key, catalog.mean_rank[unique_rows])
    else:
        order = np.arange(len(unique_rows))
    # Contributors grouped by ranked position, most similar user (lowest owner) first.
    position = np.empty(len(unique), dtype=np.int64)
    position[order] = np.arange(len(unique))
    by_rank = _group_stably(position[inverse], owner)
    indptr = np.zeros(len(unique) + 1, dtype=np.int64)
    np.cumsum(count[order], out=indptr[1:])
    return Ranking(
        anime_ids=unique[order],
        scores=(total[order] // count[order]).astype(np.int64),
        contrib_indptr=indptr,
        contributor_owner=owner[by_rank],
        contributor_score=scores[by_rank],
    )


def _years_since(updated: np.ndarray, now: float) -> np.ndarray:
    """Years from each update to ``now``; an update dated after ``now`` (clock skew) is 0."""
    return np.maximum(now - updated, 0) / SECONDS_PER_YEAR


def _batch_key(total: np.ndarray, count: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """``total / (count + 1) - penalty``, the same float for equal fractions.

    Written as is, equal keys can differ in the last bit (``14/3 - 1`` against ``11/3``),
    and the tie-break on the mean would never be reached: reduce the fraction first.
    Distinct keys have small denominators, so their floats stay in the exact order.
    """
    numerator = total - penalty * (count + 1)
    denominator = count + 1
    # Usually every denominator divides KEY_SCALE: then ``numerator * (KEY_SCALE /
    # denominator)`` is the fraction scaled to an exact integer, cheaper than the gcd and
    # in the same order (``_order`` only compares keys).
    if denominator.size and denominator.max() <= KEY_SCALE_UPTO and \
            np.abs(numerator).max() < KEY_SCALE_LIMIT:
        return numerator * (KEY_SCALE // denominator)
    divisor = np.gcd(numerator, denominator)
    return (numerator // divisor) / (denominator // divisor)


def _order(key: np.ndarray, mean_rank: np.ndarray) -> np.ndarray:
    """Positions by ``key`` descending, then mean descending (``mean_rank`` ascending),
    then position (the candidates come in anime id order).

    The three keys are ranked into one distinct integer each, so an ordinary (unstable,
    fast) integer sort gives the exact lexicographic order: several times cheaper than
    ``lexsort`` or stable float sorts on a few thousand candidates.
    """
    n = len(key)
    _, key_rank = np.unique(-key, return_inverse=True)
    levels = int(mean_rank.max()) + 1 if n else 1
    composite = (key_rank.astype(np.int64) * levels + mean_rank) * n + np.arange(n)
    return np.argsort(composite)


def _group_stably(group: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Entry order by ``group``, then ``owner``, then entry order."""
    if owner.size > 1 and not np.all(owner[1:] >= owner[:-1]):
        owners = int(owner.max()) + 1
        return np.argsort(group * owners + owner, kind="stable")
    # Entries already by owner (as ``UserIndex.entries_of`` gives them): a stable sort by
    # group keeps that order; small groups numbers sort by radix.
    if group.size and group.max() < np.iinfo(np.int16).max:
        group = group.astype(np.int16)
    return np.argsort(group, kind="stable")


def rank_single_user(entries: Entries, catalog: Catalog, *, exclude_anime_ids,
                     now: float) -> Ranking:
    """Rank one user's entries for another user (see module docstring)."""
    keep, rows = _candidates(entries, catalog, exclude_anime_ids)
    anime = entries.anime_ids[keep].astype(np.int64)
    scores = entries.scores[keep].astype(np.int64)
    years = _years_since(entries.updated[keep], now)
    key = scores - np.floor(years / 2)
    order = np.lexsort((anime, -catalog.mean[rows[keep]], -key))
    return Ranking(
        anime_ids=anime[order], scores=scores[order],
        contrib_indptr=np.arange(len(order) + 1, dtype=np.int64),
        contributor_owner=entries.owner[keep][order], contributor_score=scores[order],
    )


def random_pick(ranking: Ranking, catalog: Catalog, *, size: int,
                rng: np.random.Generator) -> np.ndarray:
    """Positions in ``ranking`` drawn at random without replacement.

    The draw leans mildly towards a higher anime mean: the weight is the mean squared,
    so a 9.0 is about 1.6 times as likely as a 7.0. ``catalog`` must be the one the
    ranking was made with (every ranked anime is in it, with a mean).
    """
    if len(ranking) == 0:
        return np.zeros(0, dtype=np.int64)
    weights = catalog.mean[catalog.rows_of_ids(ranking.anime_ids)] ** 2
    return rng.choice(len(ranking), size=min(size, len(ranking)), replace=False,
                      p=weights / weights.sum())
