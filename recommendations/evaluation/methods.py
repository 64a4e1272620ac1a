"""The methods ``evaluate`` compares, each a ``Recommender``.

``reko`` is the contract's ranking exactly as the API serves it: the requester's hash,
their 32 nearest users by ``UserIndex.nearest`` (batch 1), ``rank_batch`` over those
users' entries without the requester's listed anime, and the first ``k`` of the ranking
(pages 1-2 for ``k = 32``). ``random`` is the floor every method must clear. The others
are the models of ``recommendations.engine.models``.
"""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from recommendations.engine.models.base import Interactions, Recommender, Scored, UserList
from recommendations.engine.models.ease import EASE
from recommendations.engine.models.item_knn import ItemKNN
from recommendations.engine.models.popular import MostWatched
from recommendations.engine.models.scored_ease import ScoredEase
from recommendations.engine.ranking import Catalog, rank_batch
from recommendations.engine.user_index import UserIndex

BATCH_SIZE = 32
EMPTY = Scored(anime_ids=np.zeros(0, np.int64), scores=np.zeros(0, np.float64))


@dataclass(frozen=True)
class Population:
    """Who the contract's index holds: user ids, names and taste hashes (0 = none)."""

    user_ids: np.ndarray  # int64
    usernames: np.ndarray  # str
    hashes: np.ndarray  # uint64


@dataclass(frozen=True)
class TrainingData:
    interactions: Interactions
    catalog: Catalog
    population: Population
    now: float  # the recommendation formulas' "now", seconds since the epoch
    seed: int


class ContractRanking:
    """The contract's batch-1 ranking (see module docstring)."""

    name = "reko"

    def __init__(self, population: Population, *, now: float):
        self.population = population
        self.now = now

    def fit(self, interactions: Interactions, catalog: Catalog) -> "ContractRanking":
        hashed = self.population.hashes != 0  # the index holds only hashed users
        self.index = UserIndex.from_arrays(
            ids=self.population.user_ids[hashed],
            names=[name.encode() for name in self.population.usernames[hashed]],
            hashes=self.population.hashes[hashed], entry_user_ids=interactions.user_ids,
            anime_ids=interactions.anime_ids, scores=interactions.scores,
            updated=interactions.updated)
        self.catalog = catalog
        return self

    def recommend(self, user: UserList, k: int) -> Scored:
        if not user.hash or k <= 0:  # the API answers such a user with an error
            return EMPTY
        neighbours, _ = self.index.nearest(user.hash, BATCH_SIZE, exclude_id=user.user_id)
        ranking = rank_batch(self.index.entries_of(neighbours), self.catalog,
                             exclude_anime_ids=user.listed_anime_ids, now=self.now)
        top = ranking.anime_ids[:k].astype(np.int64)
        # The contract orders by its own key; as a score, the reverse position says the same.
        return Scored(anime_ids=top, scores=np.arange(len(top), 0, -1, dtype=np.float64))


class RandomPicks:
    """Recommendable anime drawn uniformly, the same draw for the same user and seed."""

    name = "random"

    def __init__(self, *, seed: int):
        self.seed = seed

    def fit(self, interactions: Interactions, catalog: Catalog) -> "RandomPicks":
        self.candidates = catalog.ids[catalog.recommendable]
        return self

    def recommend(self, user: UserList, k: int) -> Scored:
        allowed = self.candidates[~np.isin(self.candidates, user.listed_anime_ids)]
        who = user.user_id if user.user_id is not None else int(np.sum(user.listed_anime_ids))
        rng = np.random.default_rng([self.seed, abs(int(who))])
        # A whole permutation, so that a shorter answer is the start of a longer one.
        picked = rng.permutation(allowed)[:max(k, 0)]
        return Scored(anime_ids=picked.astype(np.int64),
                      scores=np.arange(len(picked), 0, -1, dtype=np.float64))


# Method name -> how to make it from the training data (unfitted). The order is the
# order of the report.
METHODS: dict[str, Callable[[TrainingData], Recommender]] = {
    "reko": lambda data: ContractRanking(data.population, now=data.now),
    "popular": lambda data: MostWatched(),
    "random": lambda data: RandomPicks(seed=data.seed),
    "item-knn": lambda data: ItemKNN(),
    "ease": lambda data: EASE(),
    "scored_ease": lambda data: ScoredEase(),
}


def fitted(name: str, data: TrainingData) -> Recommender:
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; known: {', '.join(METHODS)}")
    return METHODS[name](data).fit(data.interactions, data.catalog)
