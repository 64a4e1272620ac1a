"""Recommendation ranking over in-memory arrays (no Django).

The formulas are the contract's (reko-api.md, "Page sizes and ordering"):
- from a batch of similar users, an anime ranks by
  ``sum(scores) / (count + 1) - floor(mean years since those entries were updated / 2)``;
- from one user, by ``score - floor(years since the entry was updated / 2)``;
ties go to the higher anime mean, then the lower anime id.
"""
from dataclasses import dataclass

import numpy as np

from recommendations.user_index import Entries

SECONDS_PER_YEAR = 365.25 * 24 * 3600


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

    def rows(self, anime_ids: np.ndarray):
        """Catalog rows of ``anime_ids`` and whether each is in the catalog at all."""
        rows = np.searchsorted(self.ids, anime_ids)
        rows = np.minimum(rows, max(len(self.ids) - 1, 0))
        found = (self.ids[rows] == anime_ids) if len(self.ids) else np.zeros(len(rows), bool)
        return rows, found


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
    rows, found = catalog.rows(entries.anime_ids.astype(np.int64))
    keep = found & (entries.scores > 0)
    keep &= catalog.recommendable[rows]
    if len(exclude_anime_ids):
        keep &= ~np.isin(entries.anime_ids, np.asarray(exclude_anime_ids))
    return keep, rows


def rank_batch(entries: Entries, catalog: Catalog, *, exclude_anime_ids, now: float) -> Ranking:
    """Rank what a batch of similar users recommends (see module docstring)."""
    keep, rows = _candidates(entries, catalog, exclude_anime_ids)
    owner, anime = entries.owner[keep], entries.anime_ids[keep].astype(np.int64)
    scores = entries.scores[keep].astype(np.int64)
    years = (now - entries.updated[keep]) / SECONDS_PER_YEAR
    unique, inverse = np.unique(anime, return_inverse=True)
    count = np.bincount(inverse, minlength=len(unique))
    total = np.bincount(inverse, weights=scores, minlength=len(unique))
    mean_years = np.bincount(inverse, weights=years, minlength=len(unique)) / np.maximum(count, 1)
    key = total / (count + 1) - np.floor(mean_years / 2)
    mean = catalog.mean[rows[keep]]
    anime_mean = np.zeros(len(unique))
    anime_mean[inverse] = mean
    order = np.lexsort((unique, -anime_mean, -key))
    # Contributors grouped by ranked position, most similar user (lowest owner) first.
    position = np.empty(len(unique), dtype=np.int64)
    position[order] = np.arange(len(unique))
    by_rank = np.lexsort((owner, position[inverse]))
    indptr = np.zeros(len(unique) + 1, dtype=np.int64)
    np.cumsum(count[order], out=indptr[1:])
    return Ranking(
        anime_ids=unique[order],
        scores=(total[order] // count[order]).astype(np.int64),
        contrib_indptr=indptr,
        contributor_owner=owner[by_rank],
        contributor_score=scores[by_rank],
    )


def rank_single_user(entries: Entries, catalog: Catalog, *, exclude_anime_ids,
                     now: float) -> Ranking:
    """Rank one user's entries for another user (see module docstring)."""
    keep, rows = _candidates(entries, catalog, exclude_anime_ids)
    anime = entries.anime_ids[keep].astype(np.int64)
    scores = entries.scores[keep].astype(np.int64)
    years = (now - entries.updated[keep]) / SECONDS_PER_YEAR
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
    so a 9.0 is about 1.6 times as likely as a 7.0.
    """
    if len(ranking) == 0:
        return np.zeros(0, dtype=np.int64)
    rows, _ = catalog.rows(ranking.anime_ids)
    weights = catalog.mean[rows] ** 2
    return rng.choice(len(ranking), size=min(size, len(ranking)), replace=False,
                      p=weights / weights.sum())
