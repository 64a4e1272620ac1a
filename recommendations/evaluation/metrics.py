"""Ranking metrics against the hidden anime, and bootstrap intervals over test users.

Relevance is 0/1. For one user with ranked anime ``r`` (best first) and relevant set
``R``:

- NDCG@16: ``sum(1 / log2(i + 1) for hits at rank i <= 16)`` over the same sum for a
  perfect ranking (``min(|R|, 16)`` hits at the top);
- HitRate@16: 1 if any of the first 16 is relevant;
- Recall@32: hits in the first 32 over ``min(|R|, 32)``, so a perfect ranking scores 1;
- MRR: 1 / rank of the first hit in the ranking (0 without one).

Over all test users: catalog coverage, the share of recommendable catalog anime that
some user is recommended, and popularity, the mean share of all users who watched and
scored each recommended anime.
"""
from dataclasses import dataclass

import numpy as np

NDCG_AT = 16
HIT_AT = 16
RECALL_AT = 32
PER_USER = ("ndcg@16", "hitrate@16", "recall@32", "mrr", "popularity")
METRICS = PER_USER[:4] + ("coverage",) + PER_USER[4:]
RESAMPLE_BLOCK = 50


def hits(ranked: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    return np.isin(np.asarray(ranked), np.asarray(relevant))


def _discounts(n: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, n + 2))


def ndcg(ranked, relevant, at: int = NDCG_AT) -> float:
    found = hits(ranked[:at], relevant)
    ideal = _discounts(min(len(relevant), at)).sum()
    return float((found * _discounts(len(found))).sum() / ideal) if ideal else 0.0


def hit_rate(ranked, relevant, at: int = HIT_AT) -> float:
    return float(hits(ranked[:at], relevant).any())


def recall(ranked, relevant, at: int = RECALL_AT) -> float:
    wanted = min(len(relevant), at)
    return float(hits(ranked[:at], relevant).sum() / wanted) if wanted else 0.0


def reciprocal_rank(ranked, relevant) -> float:
    found = np.flatnonzero(hits(ranked, relevant))
    return 1.0 / (found[0] + 1) if len(found) else 0.0


def mean_popularity(ranked, popularity_of) -> float:
    """Mean of ``popularity_of(anime ids)``; NaN for an empty ranking."""
    return float(np.mean(popularity_of(np.asarray(ranked)))) if len(ranked) else float("nan")


def user_metrics(ranked, relevant, popularity_of) -> dict[str, float]:
    return {"ndcg@16": ndcg(ranked, relevant), "hitrate@16": hit_rate(ranked, relevant),
            "recall@32": recall(ranked, relevant), "mrr": reciprocal_rank(ranked, relevant),
            "popularity": mean_popularity(ranked, popularity_of)}


def coverage(recommended: list, catalog_size: int) -> float:
    """Distinct anime among all the users' rankings over the recommendable catalog."""
    if not catalog_size:
        return 0.0
    seen = np.unique(np.concatenate(recommended)) if recommended else []
    return len(seen) / catalog_size


@dataclass(frozen=True)
class Resamples:
    """Bootstrap resamples of the test users (positions drawn with replacement), made in
    blocks so that memory stays bounded with many users, the same blocks every time they
    are read: every method's intervals come from the same draws."""

    n_users: int
    count: int
    seed: int
    block: int = RESAMPLE_BLOCK

    def blocks(self):
        """Arrays of shape ``(at most block, n_users)``, ``count`` rows in all."""
        for number, start in enumerate(range(0, self.count, self.block)):
            rng = np.random.default_rng([self.seed, number])
            yield rng.integers(0, self.n_users, size=(min(self.block, self.count - start),
                                                      self.n_users))


def interval(values: np.ndarray, resamples: Resamples) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean of per-user ``values`` (NaN skipped)."""
    values = np.asarray(values, dtype=np.float64)
    if not values.size or np.isnan(values).all():
        return float("nan"), float("nan")
    means = []
    for drawn in resamples.blocks():
        drawn = values[drawn]
        valid = ~np.isnan(drawn)
        means.append(np.where(valid, drawn, 0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1))
    low, high = np.percentile(np.concatenate(means), [2.5, 97.5])
    return float(low), float(high)


def coverage_interval(recommended: list, catalog_size: int,
                      resamples: Resamples) -> tuple[float, float]:
    """95% bootstrap interval of coverage over the same resampled users.

    A resample holds only about 63% of the users once or more, so its coverage is lower
    than the whole run's: the percentile interval is shifted by that bias (the run's
    coverage minus the resamples' median, so the run's coverage always lies inside),
    keeping the resamples' spread.
    """
    if not recommended or not catalog_size:
        return float("nan"), float("nan")
    ids, columns = np.unique(np.concatenate(recommended), return_inverse=True)
    owner = np.repeat(np.arange(len(recommended)), [len(r) for r in recommended])
    incidence = np.zeros((len(recommended), len(ids)), dtype=np.float32)
    incidence[owner, columns] = 1.0
    covered = []
    # An anime is covered in a resample when any drawn user has it.
    for block in resamples.blocks():
        draws = np.stack([np.bincount(row, minlength=len(recommended)) for row in block])
        covered.append((draws.astype(np.float32) @ incidence > 0).sum(axis=1) / catalog_size)
    covered = np.concatenate(covered)
    low, median, high = np.percentile(covered, [2.5, 50, 97.5])
    shift = coverage(recommended, catalog_size) - median
    low, high = low + shift, high + shift
    return float(low), float(high)
