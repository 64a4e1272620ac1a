"""The one interface that every recommendation model offers, and the data it sees.

A model is trained once on everyone's watched, scored entries (``Interactions``) and then
asked for one user at a time with that user's own list (``UserList``). Answering from the
list rather than from a user id is what lets a user who joined after the last training be
served at once (fold-in), and lets ``evaluate`` hide entries from a list.
"""
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from recommendations.engine.ranking import Catalog


@dataclass(frozen=True)
class Interactions:
    """Everyone's watched, scored entries, one row per entry."""

    user_ids: np.ndarray  # int64
    anime_ids: np.ndarray  # int64
    scores: np.ndarray  # int64, 1..10
    updated: np.ndarray  # float64, seconds since the epoch


@dataclass(frozen=True)
class UserList:
    """What a model is told about the user it recommends for."""

    anime_ids: np.ndarray  # int64: watched and scored entries, the model's input
    scores: np.ndarray  # int64, 1..10
    updated: np.ndarray  # float64, seconds since the epoch
    listed_anime_ids: np.ndarray  # int64: the whole list, any status; never recommended
    hash: int | None = None
    # The user's id among the ``Interactions`` users, when they are one of them: a model
    # that looks for similar users must not find the user themselves.
    user_id: int | None = None


@dataclass(frozen=True)
class Scored:
    """A model's answer: anime ids best first, with the model's own scores (higher is better)."""

    anime_ids: np.ndarray  # int64
    scores: np.ndarray  # float64


class Recommender(Protocol):
    name: str

    def fit(self, interactions: Interactions, catalog: Catalog) -> "Recommender":
        """Learn from everyone's entries; only recommendable catalog anime may be returned."""

    def recommend(self, user: UserList, k: int) -> Scored:
        """The user's top ``k`` recommendable anime, none of them in ``listed_anime_ids``."""
