"""``scored_ease``'s arithmetic: against plain dense numpy on small random data (the
in-place inverse, the row-block cut of ``B`` to its shrunk ``top_n`` weights), on two and
three anime worked out by hand, and in its saved form."""
import numpy as np
import pytest

from recommendations.engine import model_file
from recommendations.engine.models import scored_ease
from recommendations.engine.models.base import Interactions
from recommendations.engine.models.scored_ease import ScoredEase
from recommendations.engine.ranking import Catalog
from tests.recommendations.tiny_lists import user_list


def _gram(size: int, seed: int, lam: float = 5.0) -> np.ndarray:
    """A co-occurrence matrix of random 0/1 lists plus ``lam`` on the diagonal, as fit's."""
    watched = (np.random.default_rng(seed).random((40, size)) < 0.3).astype(np.float64)
    return watched.T @ watched + lam * np.eye(size)


@pytest.mark.parametrize("size", [0, 1, 2, 7, 64])
def test_the_in_place_inverse_is_numpys(size):
    gram = _gram(size, seed=size)
    expected = np.linalg.inv(gram)
    inverse = scored_ease._invert_in_place(gram)
    assert inverse is gram  # no second matrix of the full size is kept
    scale = np.abs(expected).max(initial=1.0)
    np.testing.assert_allclose(inverse, expected, rtol=0, atol=1e-12 * scale)


def _dense_reference(gram, lam, target_columns, top_n):
    """Each source row's ``top_n`` largest |B| among the targets, less the largest |B|
    left out, as {target: weight}."""
    inverse = np.linalg.inv(gram + lam * np.eye(len(gram)))
    weights = inverse[:, target_columns] / -np.diag(inverse)[target_columns]
    for position, column in enumerate(target_columns):
        weights[column, position] = 0.0
    rows = []
    for row in weights:
        by_magnitude = np.argsort(-np.abs(row), kind="stable")
        strongest = by_magnitude[:top_n]
        dropped = np.abs(row[by_magnitude[top_n]]) if len(row) > top_n else 0.0
        shrunk = np.sign(row) * np.maximum(np.abs(row) - dropped, 0.0)
        rows.append({int(t): shrunk[t] for t in strongest if shrunk[t] != 0})
    return rows


def _as_rows(sparse):
    return [dict(zip(sparse.targets[start:stop].tolist(), sparse.weights[start:stop]))
            for start, stop in zip(sparse.indptr[:-1], sparse.indptr[1:])]


@pytest.mark.parametrize("row_block", [1, 3, 1024])
def test_b_is_cut_to_each_rows_strongest_weights_whatever_the_row_block(monkeypatch, row_block):
    monkeypatch.setattr(scored_ease, "ROW_BLOCK", row_block)
    gram = _gram(30, seed=1, lam=0.0)
    targets = np.array([0, 2, 3, 5, 8, 13, 21, 22, 29])
    sparse = scored_ease._sparse_ease(gram.copy(), 7.0, targets, top_n=4)
    expected = _dense_reference(gram, 7.0, targets, top_n=4)
    got = _as_rows(sparse)
    assert [set(row) for row in got] == [set(row) for row in expected]
    for mine, theirs in zip(got, expected):
        for target, weight in theirs.items():
            assert mine[target] == pytest.approx(weight, rel=1e-6)

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
