"""Ranking formulas and filters on hand-built arrays (no DB); expected orders by hand."""
import numpy as np
import pytest

from recommendations.engine.ranking import SECONDS_PER_YEAR, Catalog, random_pick, rank_batch, \
    rank_single_user
from recommendations.engine.user_index import Entries

NOW = 2_000_000_000.0

# Given out of id order on purpose. 5 is a sequel, 6 has no mean, 8 is in the requester's list.
CATALOG = Catalog.from_arrays(
    ids=[10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
    mean=[9.0, 8.0, 8.0, 8.0, np.nan, 9.5, 7.0, 9.0, 7.0, 8.0],
    has_parent=[False, False, False, False, False, True, False, False, False, False],
)
REQUESTER_LIST = [8]


def _entries(rows):
    """rows: (owner, anime id, score, years since the entry was updated)."""
    owner, anime, score, years = zip(*rows)
    return Entries(
        owner=np.array(owner, np.int64), anime_ids=np.array(anime, np.int32),
        scores=np.array(score, np.uint8),
        updated=np.array([NOW - y * SECONDS_PER_YEAR for y in years]).astype(np.int64),
    )


BATCH = _entries([
    (0, 1, 8, 1.5), (1, 1, 6, 2.5),                   # 14/3 - floor(2/2) = 3.67, score 7
    (1, 2, 10, 0),                                    # 10/2 - 0 = 5, mean 7
    (2, 3, 9, 2.5), (0, 3, 9, 3.5), (1, 3, 8, 3.0),   # 26/4 - floor(3/2) = 5.5, score 8
    (2, 4, 10, 0),                                    # 5, mean 7 (ties with 2: id)
    (0, 7, 10, 0),                                    # 5, mean 8 (beats 2 and 4)
    (0, 10, 10, 2.1),                                 # 5 - floor(1.05) = 4
    (1, 5, 10, 0),                                    # sequel: out
    (2, 6, 10, 0),                                    # no mean: out
    (0, 8, 10, 0),                                    # in the requester's list: out
    (1, 9, 0, 0),                                     # unscored: out
    (2, 77, 10, 0),                                   # not in the catalog: out
])


def test_rank_batch_orders_by_the_contract_formula_then_mean_then_id():
    ranking = rank_batch(BATCH, CATALOG, exclude_anime_ids=REQUESTER_LIST, now=NOW)
    # 3 (5.5); 7, 2, 4 (5: mean 8 first, then id); 10 (4); 1 (3.67: the average age,
    # 2 years, counts, not the per-entry floors 0 and 1).
    assert ranking.anime_ids.tolist() == [3, 7, 2, 4, 10, 1]


def test_rank_batch_score_is_the_floored_mean_of_the_users_scores():
    ranking = rank_batch(BATCH, CATALOG, exclude_anime_ids=REQUESTER_LIST, now=NOW)
    # 3: (9 + 9 + 8) // 3 = 8; 1: (8 + 6) // 2 = 7.
    assert ranking.scores.tolist() == [8, 10, 10, 10, 10, 7]


def test_rank_batch_lists_contributors_most_similar_first():
    ranking = rank_batch(BATCH, CATALOG, exclude_anime_ids=REQUESTER_LIST, now=NOW)
    owners, scores = ranking.contributors(0)  # anime 3
    assert owners.tolist() == [0, 1, 2] and scores.tolist() == [9, 8, 9]
    owners, scores = ranking.contributors(5)  # anime 1
    assert owners.tolist() == [0, 1] and scores.tolist() == [8, 6]


@pytest.mark.parametrize("excluded", [5, 6, 8, 9, 77])
def test_rank_batch_leaves_out_excluded_anime(excluded):
    ranking = rank_batch(BATCH, CATALOG, exclude_anime_ids=REQUESTER_LIST, now=NOW)
    assert excluded not in ranking.anime_ids.tolist()


def test_rank_batch_of_nothing_is_empty():
    ranking = rank_batch(_entries([(0, 5, 10, 0)]), CATALOG, exclude_anime_ids=[], now=NOW)
    assert len(ranking) == 0


def test_rank_single_user_orders_by_score_minus_half_the_years():
    entries = _entries([
        (0, 1, 8, 0),     # 8
        (0, 3, 9, 2.5),   # 9 - 1 = 8, mean 9: first of the 8s
        (0, 7, 10, 4.1),  # 10 - 2 = 8, mean 8: after 1 (same mean, higher id)
        (0, 2, 6, 0),     # 6
        (0, 4, 7, 1.9),   # 7 - 0 = 7
        (0, 5, 10, 0), (0, 6, 10, 0), (0, 8, 10, 0), (0, 9, 0, 0),  # all out
    ])
    ranking = rank_single_user(entries, CATALOG, exclude_anime_ids=REQUESTER_LIST, now=NOW)
    assert ranking.anime_ids.tolist() == [3, 1, 7, 4, 2]
    # The score shown is the user's own score, not the ranking key.
    assert ranking.scores.tolist() == [9, 8, 10, 7, 6]


def test_random_pick_draws_distinct_positions_of_the_ranking():
    ranking = rank_batch(BATCH, CATALOG, exclude_anime_ids=REQUESTER_LIST, now=NOW)
    rng = np.random.default_rng()
    picks = random_pick(ranking, CATALOG, size=4, rng=rng)
    assert len(picks) == 4 and len(set(picks.tolist())) == 4
    assert set(picks.tolist()) <= set(range(len(ranking)))
    assert sorted(random_pick(ranking, CATALOG, size=32, rng=rng).tolist()) == list(
        range(len(ranking)))


def test_random_pick_leans_towards_a_higher_mean():
    catalog = Catalog.from_arrays(ids=[1, 2], mean=[9.0, 3.0], has_parent=[False, False])
    ranking = rank_batch(_entries([(0, 1, 5, 0), (0, 2, 5, 0)]), catalog,
                         exclude_anime_ids=[], now=NOW)
    rng = np.random.default_rng(0)
    first = [int(ranking.anime_ids[random_pick(ranking, catalog, size=1, rng=rng)[0]])
             for _ in range(400)]
    # mean squared: 81 against 9, so anime 1 comes up about 90% of the time.
    assert 0.8 < first.count(1) / 400 < 0.97


def test_random_pick_of_an_empty_ranking_is_empty():
    ranking = rank_batch(_entries([(0, 5, 10, 0)]), CATALOG, exclude_anime_ids=[], now=NOW)
    assert random_pick(ranking, CATALOG, size=32, rng=np.random.default_rng()).tolist() == []


def test_rank_batch_ties_keys_that_are_equal_as_fractions():
    # 1: (7 + 7) / 3 - floor(2.1 / 2) = 14/3 - 1 = 11/3, mean 7.0
    # 2: (6 + 5) / 3 - 0 = 11/3, mean 9.0 -> the tie goes to the higher mean: 2 first.
    # (In floats 14/3 - 1 is 3.666...67 and 11/3 is 3.666...65.)
    catalog = Catalog.from_arrays(ids=[1, 2], mean=[7.0, 9.0], has_parent=[False, False])
    entries = _entries([(0, 1, 7, 2.1), (1, 1, 7, 2.1), (0, 2, 6, 0), (1, 2, 5, 0)])
    ranking = rank_batch(entries, catalog, exclude_anime_ids=[], now=NOW)
    assert ranking.anime_ids.tolist() == [2, 1]


def _reference_batch(rows, means, excluded):
    """The contract's ordering in exact arithmetic, straight from its wording."""
    from fractions import Fraction
    from math import floor

    by_anime = {}
    for owner, anime, score, years in rows:
        if anime in means and means[anime] is not None and score > 0 and anime not in excluded:
            by_anime.setdefault(anime, []).append((owner, score, years))
    ranked = []
    for anime, got in by_anime.items():
        scores = [s for _, s, _ in got]
        avg_years = sum(y for _, _, y in got) / len(got)
        key = Fraction(sum(scores), len(scores) + 1) - floor(avg_years / 2)
        ranked.append((-key, -means[anime], anime, sum(scores) // len(scores)))
    ranked.sort()
    return [r[2] for r in ranked], [r[3] for r in ranked]


@pytest.mark.parametrize("seed", range(20))
def test_rank_batch_matches_an_exact_reference_on_random_data(seed):
    rng = np.random.default_rng(seed)
    anime_ids = list(range(1, 41))
    means = {a: float(rng.choice([6.0, 7.0, 8.0])) for a in anime_ids}
    catalog = Catalog.from_arrays(ids=anime_ids, mean=[means[a] for a in anime_ids],
                                  has_parent=[False] * 40)
    rows = []
    for owner in range(32):
        for anime in rng.choice(anime_ids, size=int(rng.integers(0, 12)), replace=False):
            # Whole and half years plus a little: floor(avg / 2) stays off its boundaries.
            years = float(rng.choice([0.01, 0.51, 2.01, 4.51]))
            rows.append((owner, int(anime), int(rng.integers(0, 11)), years))
    if not rows:
        return
    excluded = set(int(a) for a in rng.choice(anime_ids, size=3, replace=False))
    ranking = rank_batch(_entries(rows), catalog, exclude_anime_ids=sorted(excluded), now=NOW)
    ids, scores = _reference_batch(rows, means, excluded)
    assert ranking.anime_ids.tolist() == ids
    assert ranking.scores.tolist() == scores


def test_an_entry_dated_in_the_future_earns_no_bonus():
    # Clock skew (or a timestamp rounded up): "years since" is 0, never negative, so
    # floor(years / 2) is 0, not -1. Both keys are then equal and the higher mean wins.
    catalog = Catalog.from_arrays(ids=[1, 2], mean=[7.0, 8.0], has_parent=[False, False])
    entries = _entries([(0, 1, 8, -0.01), (0, 2, 8, 0.0)])
    single = rank_single_user(entries, catalog, exclude_anime_ids=[], now=NOW)
    assert single.anime_ids.tolist() == [2, 1]
    batch = rank_batch(entries, catalog, exclude_anime_ids=[], now=NOW)
    assert batch.anime_ids.tolist() == [2, 1]


def test_an_unordered_batch_has_the_same_candidates_in_anime_id_order():
    ordered = rank_batch(BATCH, CATALOG, exclude_anime_ids=REQUESTER_LIST, now=NOW)
    unordered = rank_batch(BATCH, CATALOG, exclude_anime_ids=REQUESTER_LIST, now=NOW,
                           ordered=False)
    assert unordered.anime_ids.tolist() == [1, 2, 3, 4, 7, 10]

    def contributions(ranking):
        return {int(a): (int(s), [o.tolist() for o in ranking.contributors(i)])
                for i, (a, s) in enumerate(zip(ranking.anime_ids, ranking.scores))}

    assert contributions(unordered) == contributions(ordered)
    assert contributions(unordered)[3] == (8, [[0, 1, 2], [9, 8, 9]])
