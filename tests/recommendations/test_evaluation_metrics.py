"""Ranking metrics and bootstrap intervals, on rankings worked out by hand."""
import math

import numpy as np
import pytest

from recommendations.evaluation import metrics

RANKED = np.array([5, 1, 9, 2, 7])
RELEVANT = np.array([1, 2, 3])
# Hits at ranks 2 and 4; a perfect ranking has its 3 hits at ranks 1, 2 and 3.
DCG = 1 / math.log2(3) + 1 / math.log2(5)
IDEAL = 1 + 1 / math.log2(3) + 1 / math.log2(4)


def test_ndcg_discounts_hits_by_rank_over_the_ideal_ranking():
    assert metrics.ndcg(RANKED, RELEVANT) == pytest.approx(DCG / IDEAL)  # 0.498
    assert metrics.ndcg(RANKED, RELEVANT, at=3) == pytest.approx((1 / math.log2(3)) / IDEAL)
    assert metrics.ndcg(np.array([1, 2, 3]), RELEVANT) == pytest.approx(1.0)
    assert metrics.ndcg(np.array([9, 8]), RELEVANT) == 0.0


def test_ndcg_ideal_is_capped_at_the_cut_off():
    relevant = np.arange(100, 140)  # 40 relevant, 16 places
    assert metrics.ndcg(np.arange(100, 132), relevant) == pytest.approx(1.0)


def test_hit_rate_recall_and_reciprocal_rank():
    assert metrics.hit_rate(RANKED, RELEVANT) == 1.0
    assert metrics.hit_rate(RANKED, RELEVANT, at=1) == 0.0
    assert metrics.recall(RANKED, RELEVANT) == pytest.approx(2 / 3)
    assert metrics.recall(RANKED, RELEVANT, at=3) == pytest.approx(1 / 3)
    # Recall's denominator is capped at the cut-off: 32 hits of 40 relevant is perfect.
    assert metrics.recall(np.arange(100, 132), np.arange(100, 140)) == 1.0
    assert metrics.reciprocal_rank(RANKED, RELEVANT) == 0.5
    assert metrics.reciprocal_rank(np.array([9, 8, 7, 3]), RELEVANT) == 0.25
    assert metrics.reciprocal_rank(np.array([9]), RELEVANT) == 0.0


def test_an_empty_ranking_scores_zero_and_has_no_popularity():
    empty = np.zeros(0, dtype=np.int64)
    values = metrics.user_metrics(empty, RELEVANT, lambda ids: np.ones(len(ids)))
    assert {k: v for k, v in values.items() if k != "popularity"} == {
        "ndcg@16": 0.0, "hitrate@16": 0.0, "recall@32": 0.0, "mrr": 0.0}
    assert math.isnan(values["popularity"])


def test_popularity_is_the_mean_over_what_is_recommended():
    share = {5: 0.5, 1: 0.1, 9: 0.0, 2: 0.2, 7: 0.2}
    got = metrics.mean_popularity(RANKED, lambda ids: np.array([share[i] for i in ids]))
    assert got == pytest.approx(0.2)


def test_coverage_counts_distinct_anime_over_the_catalog():
    assert metrics.coverage([np.array([1, 2]), np.array([2, 3])], 10) == pytest.approx(0.3)
    assert metrics.coverage([], 10) == 0.0


def test_intervals_hold_the_mean_and_come_from_shared_resamples():
    samples = metrics.Resamples(4, 500, seed=1, block=64)
    drawn = np.concatenate(list(samples.blocks()))
    assert drawn.shape == (500, 4) and drawn.min() == 0 and drawn.max() == 3
    np.testing.assert_array_equal(drawn, np.concatenate(list(samples.blocks())))
    assert metrics.interval(np.full(4, 0.5), samples) == (0.5, 0.5)
    low, high = metrics.interval(np.array([0.0, 1.0, 0.0, 1.0]), samples)
    assert 0.0 <= low < 0.5 < high <= 1.0
    # NaN (a user with nothing recommended has no popularity) is left out of each mean.
    assert metrics.interval(np.array([0.2, np.nan, 0.2, 0.2]), samples) == \
        pytest.approx((0.2, 0.2))


def test_coverage_interval_is_centred_on_the_run():
    one_user = [np.array([1, 2])]
    samples = metrics.Resamples(1, 100, seed=0)
    assert metrics.coverage_interval(one_user, 10, samples) == pytest.approx((0.2, 0.2))
    many = [np.array([i, i + 1]) for i in range(0, 40, 2)]  # 20 users, 40 distinct anime
    low, high = metrics.coverage_interval(many, 100, metrics.Resamples(20, 300, 0))
    assert low < metrics.coverage(many, 100) == 0.4 < high
