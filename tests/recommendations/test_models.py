"""The baseline models on data small enough to check by hand (see ``tiny_lists``)."""
import numpy as np
import pytest

from recommendations.engine.models.base import Interactions
from recommendations.engine.models.ease import EASE
from recommendations.engine.models.item_knn import ItemKNN
from recommendations.engine.models.popular import MostWatched
from recommendations.engine.ranking import Catalog
from tests.recommendations import tiny_lists
from tests.recommendations.tiny_lists import user_list


def _fit(model):
    data = tiny_lists.dataset()
    return model.fit(data.entries.interactions(), data.catalog)


def test_most_watched_ranks_by_users_then_lower_id():
    model = _fit(MostWatched())
    # 1 and 2 have 3 users each (lower id first), 3 has 2, 4 has 1; 5 and 6 never come.
    top = model.recommend(user_list([]), 10)
    assert top.anime_ids.tolist() == [1, 2, 3, 4]
    assert top.scores.tolist() == [3, 3, 2, 1]
    assert model.recommend(user_list([1]), 10).anime_ids.tolist() == [2, 3, 4]


def test_item_knn_scores_are_summed_cosines():
    model = _fit(ItemKNN())
    # Users of 1: ann bob cid; of 2: ann bob dee; of 3: bob cid; of 4: dee.
    # cos(1, 3) = 2 / sqrt(3 * 2), cos(1, 2) = 2 / sqrt(3 * 3), cos(1, 4) = 0.
    top = model.recommend(user_list([1]), 10)
    assert top.anime_ids.tolist() == [3, 2, 4]
    np.testing.assert_allclose(top.scores, [2 / np.sqrt(6), 2 / 3, 0], rtol=1e-6)


def test_item_knn_breaks_ties_by_users_and_learns_from_unrecommendable_anime():
    model = _fit(ItemKNN())
    # Only 2 shares a user with 4 (cos 1 / sqrt 3); 1 (3 users) and 3 (2) tie at 0.
    assert model.recommend(user_list([4]), 3).anime_ids.tolist() == [2, 1, 3]
    # 6 (a sequel) is never recommended but tells: cos(6, 1) = 2 / sqrt 6,
    # cos(6, 3) = 1 / 2, cos(6, 2) = 1 / sqrt 6; 5 (no mean, cos 1 / sqrt 2) is left out.
    top = model.recommend(user_list([6]), 10)
    assert top.anime_ids.tolist() == [1, 3, 2, 4]
    np.testing.assert_allclose(top.scores[:3], [2 / np.sqrt(6), 0.5, 1 / np.sqrt(6)], rtol=1e-6)


def test_item_knn_keeps_only_the_nearest_neighbours():
    # With one neighbour each, 2's is 1 (cos 2 / 3 beats 1 / sqrt 3 for 4), so a user
    # who has 2 gets nothing for 4; with every neighbour 4 would score 1 / sqrt 3.
    everyone = _fit(ItemKNN()).recommend(user_list([2]), 10)
    nearest = _fit(ItemKNN(neighbours=1)).recommend(user_list([2]), 10)
    assert everyone.scores[everyone.anime_ids.tolist().index(4)] == pytest.approx(3 ** -0.5)
    assert nearest.scores[nearest.anime_ids.tolist().index(4)] == 0
    assert nearest.anime_ids[0] == 1 and nearest.scores[0] == pytest.approx(2 / 3)


def test_ease_matches_the_closed_form_on_two_anime():
    # Users {1, 2}, {1, 2}, {1}; l2 = 1: G + I = [[4, 2], [2, 3]],
    # P = [[3, -2], [-2, 4]] / 8, B_12 = -P_12 / P_22 = 1/2, B_21 = -P_21 / P_11 = 2/3.
    interactions = Interactions(
        user_ids=np.array([1, 1, 2, 2, 3]), anime_ids=np.array([1, 2, 1, 2, 1]),
        scores=np.full(5, 8), updated=np.zeros(5))
    catalog = Catalog.from_arrays(ids=[1, 2], mean=[7.0, 7.0], has_parent=[False, False])
    model = EASE(l2=1.0).fit(interactions, catalog)
    one = model.recommend(user_list([1]), 5)
    two = model.recommend(user_list([2]), 5)
    assert one.anime_ids.tolist() == [2] and two.anime_ids.tolist() == [1]
    np.testing.assert_allclose(one.scores, [0.5], rtol=1e-6)
    np.testing.assert_allclose(two.scores, [2 / 3], rtol=1e-6)


def test_ease_ignores_repeated_entries_and_unknown_anime():
    data = tiny_lists.dataset()
    interactions = data.entries.interactions()
    doubled = Interactions(*(np.concatenate([column, column]) for column in (
        interactions.user_ids, interactions.anime_ids, interactions.scores,
        interactions.updated)))
    once = EASE().fit(interactions, data.catalog).recommend(user_list([1, 99]), 4)
    twice = EASE().fit(doubled, data.catalog).recommend(user_list([1]), 4)
    assert once.anime_ids.tolist() == twice.anime_ids.tolist()
    np.testing.assert_allclose(once.scores, twice.scores)


def test_ease_needs_a_positive_l2():
    with pytest.raises(ValueError):
        EASE(l2=0)


def test_max_items_keeps_the_most_watched():
    model = _fit(EASE(max_items=3))
    # Known anime: 1, 2 (3 users), then 3 and 6 (2 users): the lower id, 3.
    assert model.items.anime_ids.tolist() == [1, 2, 3]
    assert sorted(model.recommend(user_list([1]), 10).anime_ids.tolist()) == [2, 3]
