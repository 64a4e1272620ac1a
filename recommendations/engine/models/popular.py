"""Most watched: every user gets the anime that the most users watched and scored."""
import numpy as np

from recommendations.engine.models.base import Interactions, Scored, UserList
from recommendations.engine.models.items import ItemSpace, top_k
from recommendations.engine.ranking import Catalog


class MostWatched:
    name = "popular"

    def fit(self, interactions: Interactions, catalog: Catalog) -> "MostWatched":
        self.items = ItemSpace.from_interactions(interactions)
        self.catalog = catalog
        return self

    def recommend(self, user: UserList, k: int) -> Scored:
        return top_k(self.items, self.items.user_counts.astype(np.float64), self.catalog,
                     user, k)
