"""What every recommendation method promises, checked on each one that ``evaluate``
knows (``METHODS``), on the hand-made data of ``tiny_lists``."""
import numpy as np
import pytest

from recommendations.evaluation.dataset import ListsByUser
from recommendations.evaluation.methods import METHODS, fitted
from recommendations.evaluation.run import training_data
from tests.recommendations import tiny_lists
from tests.recommendations.tiny_lists import RECOMMENDABLE, user_list

pytestmark = pytest.mark.parametrize("method", list(METHODS))


def _training():
    data = tiny_lists.dataset()
    return data, training_data(data, data.entries, seed=3)


def _members():
    """Each tiny user's own list, as ``evaluate`` hands it to a method."""
    data, training = _training()
    lists = ListsByUser.of(data.entries, data.user_ids)
    return [lists.user_list(row, training.population.hashes[row])
            for row in range(len(data.user_ids))]


def _everyone():
    return _members() + [user_list([]), user_list([1]), user_list([4, 6]),
                         user_list([1, 2, 3, 4, 7, 8])]


def test_it_never_recommends_listed_or_unrecommendable_anime(method):
    model = fitted(method, _training()[1])
    for user in _everyone():
        got = model.recommend(user, 8).anime_ids.tolist()
        assert set(got) <= RECOMMENDABLE - set(user.listed_anime_ids.tolist()), (user, got)


def test_it_returns_at_most_k_distinct_anime_best_first(method):
    model = fitted(method, _training()[1])
    for user in _everyone():
        for k in (0, 1, 2, 8):
            top = model.recommend(user, k)
            assert len(top.anime_ids) == len(top.scores) <= k
            assert len(set(top.anime_ids.tolist())) == len(top.anime_ids)
            assert top.anime_ids.dtype == np.int64
            assert np.all(np.diff(top.scores) <= 0), top.scores
            # A shorter answer is the start of the longer one.
            assert top.anime_ids.tolist() == model.recommend(user, 8).anime_ids[:k].tolist()


def test_it_is_deterministic(method):
    first, second = fitted(method, _training()[1]), fitted(method, _training()[1])
    for user in _everyone():
        a, b = first.recommend(user, 8), second.recommend(user, 8)
        assert a.anime_ids.tolist() == b.anime_ids.tolist()
        np.testing.assert_array_equal(a.scores, b.scores)
        assert first.recommend(user, 8).anime_ids.tolist() == a.anime_ids.tolist()


def test_it_answers_a_user_with_an_empty_list(method):
    top = fitted(method, _training()[1]).recommend(user_list([]), 4)
    assert set(top.anime_ids.tolist()) <= RECOMMENDABLE and len(top.anime_ids) <= 4


def test_it_finds_what_the_hand_worked_answers_say(method):
    """ann (1, 2, 5, 6) can only be recommended 3, 4, 7 or 8. 3 is the better one for
    every method that learns: two of her neighbours scored it (7 and 9: 16 / 3 beats
    4's 8 / 2 in the contract's formula), it has more users than 4, and it shares users
    with her anime where 4 shares one."""
    ann = _members()[0]
    top = fitted(method, _training()[1]).recommend(ann, 2).anime_ids.tolist()
    if method == "random":
        assert len(top) == 2 and set(top) <= {3, 4, 7, 8}
    else:
        assert top == [3, 4]
