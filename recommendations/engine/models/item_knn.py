"""Item-kNN: anime similar to the ones on the user's list, by the users they share.

Similarity is the cosine of two anime's 0/1 user columns, ``both / sqrt(a * b)``; each
anime keeps only its ``neighbours`` most similar anime, and a candidate scores the sum of
its similarities to the user's anime.
"""
import numpy as np

from recommendations.engine.models.base import Interactions, Scored, UserList
from recommendations.engine.models.items import ItemSpace, top_k
from recommendations.engine.ranking import Catalog


class ItemKNN:
    name = "item-knn"

    def __init__(self, *, neighbours: int = 100, max_items: int | None = 20_000):
        self.neighbours = neighbours
        self.max_items = max_items

    def fit(self, interactions: Interactions, catalog: Catalog) -> "ItemKNN":
        self.items = ItemSpace.from_interactions(interactions, max_items=self.max_items)
        both = self.items.cooccurrence(interactions)
        norms = np.sqrt(np.diag(both))
        norms[norms == 0] = 1.0
        similarity = (both / norms[:, None] / norms[None, :]).astype(np.float32)
        np.fill_diagonal(similarity, 0.0)
        self.similarity = _keep_top_per_row(similarity, self.neighbours)
        self.catalog = catalog
        return self

    def recommend(self, user: UserList, k: int) -> Scored:
        scores = self.items.scores_from(self.similarity, user)
        return top_k(self.items, scores, self.catalog, user, k)


def _keep_top_per_row(matrix: np.ndarray, keep: int) -> np.ndarray:
    """Zero all but each row's ``keep`` largest values (in place; returns the matrix)."""
    if keep >= matrix.shape[1]:
        return matrix
    dropped = np.argpartition(-matrix, keep, axis=1)[:, keep:]
    np.put_along_axis(matrix, dropped, 0.0, axis=1)
    return matrix
