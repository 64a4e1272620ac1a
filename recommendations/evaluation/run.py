"""One evaluation: split the lists, fit every method on what remains, ask each for every
test user's top ``TOP_K`` and score it against the hidden anime."""
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from recommendations.evaluation import metrics
from recommendations.evaluation.dataset import (
    Dataset, ListEntries, ListsByUser, contract_hashes,
)
from recommendations.evaluation.methods import METHODS, Population, TrainingData, fitted
from recommendations.evaluation.split import Split, split

TOP_K = 32
RESAMPLES = 1000
FOLDS = 5


@dataclass
class MethodResult:
    name: str
    values: dict  # metric -> value over all test users
    intervals: dict  # metric -> (low, high), 95% bootstrap
    per_user: dict = field(repr=False, default_factory=dict)  # metric -> array


@dataclass
class Evaluation:
    seed: int
    folds: int
    users: int  # test users scored
    eligible_users: int
    dataset_users: int
    relevant_per_user: float
    methods: list  # MethodResult, in the order asked


def training_data(dataset: Dataset, train: ListEntries, *, seed: int,
                  now: float | None = None) -> TrainingData:
    """What the methods learn from: ``train``, the entries left after the split.

    ``now`` (default: the newest entry) is the contract's "now" for its years since an
    entry was updated: a fixed one keeps the run reproducible.
    """
    hashes = contract_hashes(train, dataset.user_ids, dataset.catalog, dataset.slots)
    if now is None:
        now = float(train.updated.max()) if len(train) else 0.0
    return TrainingData(
        interactions=train.interactions(), catalog=dataset.catalog,
        population=Population(dataset.user_ids, dataset.usernames, hashes),
        now=now, seed=seed)


def evaluate(dataset: Dataset, *, seed: int = 0, users: int | None = None,
             methods: Sequence[str] = tuple(METHODS), folds: int = FOLDS,
             progress: bool = True, resamples: int = RESAMPLES) -> Evaluation:
    """Split (see ``split``), then per fold of test users fit every method and ask it
    for each of the fold's users' top ``TOP_K``; score everything at the end."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    the_split = split(dataset, seed=seed, users=users)
    now = float(dataset.entries.updated.max()) if len(dataset.entries) else 0.0
    ranked = {name: [None] * len(the_split.test_user_ids) for name in methods}
    dealt = the_split.folds(folds, seed=seed)
    bar = tqdm(total=len(methods) * len(the_split.test_user_ids), desc="evaluate",
               unit="user", disable=not progress)
    for number, positions in enumerate(dealt, start=1):
        fold_users = the_split.test_user_ids[positions]
        data = training_data(dataset, the_split.train_without(fold_users), seed=seed, now=now)
        lists = ListsByUser.of(_remaining(the_split, fold_users), fold_users)
        hashes = data.population.hashes[np.searchsorted(dataset.user_ids, fold_users)]
        for name in methods:
            bar.set_postfix_str(f"fold {number}/{len(dealt)}, fitting {name}")
            model = fitted(name, data)
            bar.set_postfix_str(f"fold {number}/{len(dealt)}, {name}")
            for row, position in enumerate(positions):
                ranked[name][position] = model.recommend(
                    lists.user_list(row, hashes[row]), TOP_K).anime_ids
                bar.update()
    bar.close()
    popularity = _popularity(dataset.entries.interactions())
    catalog_size = int(dataset.catalog.recommendable.sum())
    samples = metrics.Resamples(len(the_split.test_user_ids), resamples, seed)
    results = [_summary(name, ranked[name], the_split.relevant, popularity, catalog_size,
                        samples) for name in methods]
    return Evaluation(
        seed=seed, folds=len(dealt), users=len(the_split.test_user_ids),
        eligible_users=the_split.eligible_users, dataset_users=len(dataset.user_ids),
        relevant_per_user=float(np.mean([len(r) for r in the_split.relevant]))
        if the_split.relevant else 0.0,
        methods=results)


def _remaining(the_split: Split, fold_users: np.ndarray) -> ListEntries:
    """The fold's test users' remaining entries (any status): what they hand a method."""
    return the_split.entries.take(np.isin(the_split.entries.user_ids, fold_users) &
                                  ~the_split.hidden)


def _popularity(interactions):
    """Share of users who watched and scored each anime, as a look-up."""
    pairs = np.unique(np.column_stack([interactions.user_ids, interactions.anime_ids]), axis=0)
    anime, counts = np.unique(pairs[:, 1], return_counts=True)
    n_users = max(len(np.unique(pairs[:, 0])), 1)

    def popularity_of(anime_ids: np.ndarray) -> np.ndarray:
        if not len(anime):
            return np.zeros(len(anime_ids))
        at = np.minimum(np.searchsorted(anime, anime_ids), len(anime) - 1)
        return np.where(anime[at] == anime_ids, counts[at], 0) / n_users

    return popularity_of


def _summary(name, ranked, relevant, popularity, catalog_size, samples) -> MethodResult:
    per_user = {m: [] for m in metrics.PER_USER}
    for mine, wanted in zip(ranked, relevant):
        for metric, value in metrics.user_metrics(mine, wanted, popularity).items():
            per_user[metric].append(value)
    per_user = {m: np.asarray(v, dtype=np.float64) for m, v in per_user.items()}
    values, intervals = {}, {}
    for metric, array in per_user.items():
        values[metric] = float(np.nanmean(array)) if len(array) and \
            not np.isnan(array).all() else float("nan")
        intervals[metric] = metrics.interval(array, samples)
    values["coverage"] = metrics.coverage(ranked, catalog_size)
    intervals["coverage"] = metrics.coverage_interval(ranked, catalog_size, samples)
    return MethodResult(name=name, values=values, intervals=intervals, per_user=per_user)
