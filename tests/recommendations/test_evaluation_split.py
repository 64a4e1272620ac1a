"""The protocol's split on lists built for it: who is tested, how much is hidden."""
import numpy as np
import pytest

from recommendations.engine.ranking import Catalog
from recommendations.engine.taste_hash import SlotTable
from recommendations.evaluation.dataset import Dataset, ListEntries
from recommendations.evaluation.split import hidden_count, split

# Anime 1-40; 39 has no mean and 40 has a parent: neither can be recommended.
CATALOG = Catalog.from_arrays(ids=np.arange(1, 41), mean=[7.0] * 38 + [np.nan, 7.0],
                              has_parent=[False] * 39 + [True])


def _lists():
    """(user id, name, [(anime, score, watched)])"""
    return [
        # 25 watched and scored; liked (7+): 1-8, 39, 40 -> 10, so 2 are hidden.
        (1, "amy", [(a, 8, True) for a in range(1, 9)] + [(39, 9, True), (40, 9, True)]
         + [(a, 5, True) for a in range(11, 26)] + [(30, 0, False)]),
        # 19 watched and scored: too few to be tested.
        (2, "bob", [(a, 9, True) for a in range(1, 20)]),
        # 30 watched and scored, 13 liked: 13 * 0.2 = 2.6, so 3 are hidden.
        (3, "cyd", [(a, 10, True) for a in range(1, 14)] + [(a, 6, True) for a in range(14, 31)]),
        # 20 watched, none liked; liked entries that are not watched do not count.
        (4, "dan", [(a, 6, True) for a in range(1, 21)] + [(a, 9, False) for a in range(21, 26)]),
        # Liked only 39 and 40: whatever is hidden, nothing could be recommended.
        (5, "eve", [(39, 9, True), (40, 9, True)] + [(a, 3, True) for a in range(1, 19)]),
    ]


def _dataset() -> Dataset:
    rows = [(user, anime, score, watched) for user, _, entries in _lists()
            for anime, score, watched in entries]
    users, anime, scores, watched = (np.array(c) for c in zip(*rows))
    return Dataset(
        user_ids=np.arange(1, 6), usernames=np.array([name for _, name, _ in _lists()]),
        entries=ListEntries(users.astype(np.int64), anime.astype(np.int64),
                            scores.astype(np.int64), watched.astype(bool),
                            np.arange(len(rows), dtype=np.float64)),
        catalog=CATALOG, slots=SlotTable([[0]] * 40))


def _hidden(data: Dataset, the_split, user_id: int) -> set[int]:
    before = set(data.entries.anime_ids[data.entries.user_ids == user_id].tolist())
    after = set(the_split.train.anime_ids[the_split.train.user_ids == user_id].tolist())
    assert after <= before
    return before - after


@pytest.mark.parametrize("liked, hidden", [
    (0, 0), (1, 1), (2, 1), (5, 1), (7, 1), (8, 2), (10, 2), (12, 2), (13, 3), (100, 20)])
def test_a_fifth_of_the_liked_entries_is_hidden_rounded_half_up_at_least_one(liked, hidden):
    assert hidden_count(liked) == hidden


def test_only_users_with_enough_watched_scored_entries_and_something_to_find_are_tested():
    data = _dataset()
    the_split = split(data, seed=0)
    assert the_split.test_user_ids.tolist() == [1, 3]  # amy, cyd
    assert the_split.eligible_users == 3  # eve too, but nothing of hers could be found
    assert the_split.hidden_count.tolist() == [2, 3]


def test_hidden_entries_are_liked_ones_and_relevant_are_the_recommendable_among_them():
    data = _dataset()
    amy_untested = 0
    for seed in range(60):
        the_split = split(data, seed=seed)
        amy, cyd = _hidden(data, the_split, 1), _hidden(data, the_split, 3)
        assert len(cyd) == 3 and cyd <= set(range(1, 14))
        assert the_split.relevant[-1].tolist() == sorted(cyd)
        if 1 in the_split.test_user_ids:
            assert len(amy) == 2 and amy <= {1, 2, 3, 4, 5, 6, 7, 8, 39, 40}
            assert the_split.relevant[0].tolist() == sorted(amy - {39, 40})
        else:
            # Her draw was 39 and 40 (1 chance in 45): nothing to find, so she keeps
            # her list and is not tested.
            amy_untested += 1
            assert not amy
        # Everyone else keeps every entry, eve too (she is never tested).
        for other in (2, 4, 5):
            assert not _hidden(data, the_split, other)
    assert amy_untested < 10


def test_the_split_is_deterministic_and_depends_on_the_seed():
    data = _dataset()
    draws = {seed: frozenset(_hidden(data, split(data, seed=seed), 3)) for seed in range(8)}
    assert draws[0] == frozenset(_hidden(data, split(data, seed=0), 3))
    assert len(set(draws.values())) > 1


def test_sampling_test_users_keeps_each_users_draw():
    data = _dataset()
    for seed in range(6):
        everyone = split(data, seed=seed)
        sampled = split(data, seed=seed, users=1)
        assert len(sampled.test_user_ids) <= 1
        for user in (1, 3):
            if user in sampled.test_user_ids:
                assert _hidden(data, sampled, user) == _hidden(data, everyone, user)
            else:
                assert not _hidden(data, sampled, user)
    picked = {tuple(split(data, seed=seed, users=1).test_user_ids) for seed in range(12)}
    assert {(1,), (3,)} <= picked  # the sample depends on the seed


def test_folds_deal_every_test_user_once():
    data = _dataset()
    the_split = split(data, seed=1)
    for count, sizes in ((1, [2]), (2, [1, 1]), (5, [1, 1])):
        folds = the_split.folds(count, seed=1)
        assert sorted(len(f) for f in folds) == sizes
        assert sorted(np.concatenate(folds).tolist()) == [0, 1]
        assert [f.tolist() for f in folds] == [f.tolist() for f in the_split.folds(count, seed=1)]


def test_a_folds_training_lacks_only_that_folds_hidden_entries():
    data = _dataset()
    the_split = split(data, seed=2)
    amy_hidden = _hidden(data, the_split, 1)
    without_amy = the_split.train_without(np.array([1]))
    remaining = set(without_amy.anime_ids[without_amy.user_ids == 1].tolist())
    assert remaining == set(data.entries.anime_ids[data.entries.user_ids == 1].tolist()) - amy_hidden
    assert len(without_amy.anime_ids[without_amy.user_ids == 3]) == 30  # cyd keeps all
