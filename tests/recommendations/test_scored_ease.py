"""The opt-in model's arithmetic on two and three anime, worked out by hand, and its
saved form."""
import numpy as np
import pytest

from recommendations.engine import model_file
from recommendations.engine.models.base import Interactions
from recommendations.engine.models.scored_ease import ScoredEase
from recommendations.engine.ranking import Catalog
from tests.recommendations.tiny_lists import user_list


def _fit(lists: dict, model: ScoredEase) -> ScoredEase:
    """``lists``: user -> [(anime, score)]; every anime in the catalog is recommendable."""
    rows = [(user, anime, score) for user, pairs in lists.items() for anime, score in pairs]
    users, anime, scores = (np.array(column) for column in zip(*rows))
    interactions = Interactions(user_ids=users, anime_ids=anime, scores=scores,
                                updated=np.zeros(len(rows)))
    ids = sorted(set(anime.tolist()))
    catalog = Catalog.from_arrays(ids=ids, mean=[7.0] * len(ids), has_parent=[False] * len(ids))
    return model.fit(interactions, catalog)


# With λ = 1, B = -P / diag(P) for P = (G + I)^-1, G the co-occurrence of:
# - every entry:             G + I = [[4, 2], [2, 3]]: B_12 = 1/2, B_21 = 2/3;
# - the liked ones (7+), {1, 2}, {1}, {1}: [[4, 1], [1, 2]]: B_12 = 1/4, B_21 = 1/2.
# Two anime: a row has one weight besides its zero diagonal, so nothing is cut or shrunk.
TWO = {1: [(1, 9), (2, 8)], 2: [(1, 9), (2, 6)], 3: [(1, 7)]}


def _two() -> ScoredEase:
    return _fit(TWO, ScoredEase(lam=1.0, liked_lam=1.0, liked_weight=0.5, score_slope=0.05))


@pytest.mark.parametrize("listed, score, target, expected", [
    (1, 9, 2, (1 + 0.05 * 2) / 2 + 0.5 / 4),  # a liked 9: both models
    (1, 6, 2, (1 - 0.05) / 2),  # a 6 is read by the first model alone, and weighs less
    (2, 8, 1, (1 + 0.05) * 2 / 3 + 0.5 / 2),
])
def test_a_prediction_adds_both_models_read_by_score(listed, score, target, expected):
    top = _two().recommend(user_list([listed], scores={listed: score}), 5)
    assert top.anime_ids.tolist() == [target]
    np.testing.assert_allclose(top.scores, [expected], rtol=1e-5)


def test_each_row_keeps_its_strongest_weights_shrunk_by_the_strongest_dropped():
    # Users {1, 2}, {1, 2}, {1, 3}, {2}: G + I = [[4, 2, 1], [2, 4, 0], [1, 0, 2]],
    # P = [[8, -4, -4], [-4, 7, 2], [-4, 2, 12]] / 20, so B's rows (sources) are
    # 1: (0, 4/7, 1/3), 2: (1/2, 0, -1/6), 3: (1/2, -2/7, 0). One weight kept per row,
    # less the magnitude of the one dropped: B_12 = 4/7 - 1/3, B_21 = 1/2 - 1/6,
    # B_31 = 1/2 - 2/7.
    lists = {1: [(1, 7), (2, 7)], 2: [(1, 7), (2, 7)], 3: [(1, 7), (3, 7)], 4: [(2, 7)]}
    model = _fit(lists, ScoredEase(lam=1.0, liked_weight=0.0, top_n=1))
    for listed, target, expected in [(1, 2, 4 / 7 - 1 / 3), (2, 1, 1 / 2 - 1 / 6),
                                     (3, 1, 1 / 2 - 2 / 7)]:
        top = model.recommend(user_list([listed], scores={listed: 7}), 1)
        assert top.anime_ids.tolist() == [target]
        np.testing.assert_allclose(top.scores, [expected], rtol=1e-5)
    assert np.diff(model.watched.indptr).tolist() == [1, 1, 1]


def test_a_saved_model_serves_the_same_scores(tmp_path):
    model = _two()
    loaded = model_file.load(tmp_path, model_file.publish(model, tmp_path, {})).model
    for anime, score in [(1, 9), (2, 8), (1, 6)]:
        asked = user_list([anime], scores={anime: score})
        np.testing.assert_allclose(loaded.recommend(asked, 5).scores,
                                   model.recommend(asked, 5).scores, rtol=1e-6)
