"""``scored_ease``'s training arithmetic against plain dense numpy on small random data:
the in-place inverse and the row-block cut of ``B`` to its ``top_n`` weights."""
import numpy as np
import pytest

from recommendations.engine.models import scored_ease


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
    """Each source row's ``top_n`` largest |B| among the targets, as {target: weight}."""
    inverse = np.linalg.inv(gram + lam * np.eye(len(gram)))
    weights = inverse[:, target_columns] / -np.diag(inverse)[target_columns]
    for position, column in enumerate(target_columns):
        weights[column, position] = 0.0
    rows = []
    for row in weights:
        strongest = np.argsort(-np.abs(row), kind="stable")[:top_n]
        rows.append({int(t): row[t] for t in strongest if row[t] != 0})
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
