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
from recommendations.evaluation.split import split

TOP_K = 32
RESAMPLES = 1000


@dataclass
class MethodResult:
    name: str
    values: dict  # metric -> value over all test users
    intervals: dict  # metric -> (low, high), 95% bootstrap
    per_user: dict = field(repr=False, default_factory=dict)  # metric -> array


@dataclass
class Evaluation:
    seed: int
    users: int  # test users scored
    eligible_users: int
    dataset_users: int
    relevant_per_user: float
    methods: list  # MethodResult, in the order asked


def training_data(dataset: Dataset, train: ListEntries, *, seed: int) -> TrainingData:
    """What the methods learn from: ``train``, the entries left after the split."""
    hashes = contract_hashes(train, dataset.user_ids, dataset.catalog, dataset.slots)
    # A fixed "now" (the newest entry) keeps the contract's years-since-updated penalty,
    # and so the whole run, reproducible.
    now = float(train.updated.max()) if len(train) else 0.0
    return TrainingData(
        interactions=train.interactions(), catalog=dataset.catalog,
        population=Population(dataset.user_ids, dataset.usernames, hashes),
        now=now, seed=seed)


def evaluate(dataset: Dataset, *, seed: int = 0, users: int | None = None,
             methods: Sequence[str] = tuple(METHODS), progress: bool = True,
             resamples: int = RESAMPLES) -> Evaluation:
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    the_split = split(dataset.entries, dataset.catalog, seed=seed, users=users)
    data = training_data(dataset, the_split.train, seed=seed)
    test_rows = np.searchsorted(dataset.user_ids, the_split.test_user_ids)
    lists = ListsByUser.of(the_split.train, dataset.user_ids[test_rows])
    test_hashes = data.population.hashes[test_rows]
    popularity = _popularity(data)
    catalog_size = int(dataset.catalog.recommendable.sum())
    samples = metrics.bootstrap_samples(len(test_rows), resamples, seed)
    bar = tqdm(total=len(methods) * len(test_rows), desc="evaluate", unit="user",
               disable=not progress)
    results = []
    for name in methods:
        bar.set_postfix_str(f"fitting {name}")
        model = fitted(name, data)
        bar.set_postfix_str(name)
        per_user, recommended = {m: [] for m in metrics.PER_USER}, []
        for row, relevant in enumerate(the_split.relevant):
            ranked = model.recommend(lists.user_list(row, test_hashes[row]), TOP_K).anime_ids
            recommended.append(ranked)
            for metric, value in metrics.user_metrics(ranked, relevant, popularity).items():
                per_user[metric].append(value)
            bar.update()
        results.append(_summary(name, per_user, recommended, catalog_size, samples))
    bar.close()
    return Evaluation(
        seed=seed, users=len(test_rows), eligible_users=the_split.eligible_users,
        dataset_users=len(dataset.user_ids),
        relevant_per_user=float(np.mean([len(r) for r in the_split.relevant]))
        if the_split.relevant else 0.0,
        methods=results)


def _popularity(data: TrainingData):
    """Share of training users who watched and scored each anime, as a look-up."""
    interactions = data.interactions
    pairs = np.unique(np.column_stack([interactions.user_ids, interactions.anime_ids]), axis=0)
    anime, counts = np.unique(pairs[:, 1], return_counts=True)
    n_users = max(len(np.unique(pairs[:, 0])), 1)

    def popularity_of(anime_ids: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(anime, anime_ids), max(len(anime) - 1, 0))
        found = anime[at] == anime_ids if len(anime) else np.zeros(len(anime_ids), bool)
        return np.where(found, counts[at] if len(anime) else 0, 0) / n_users

    return popularity_of


def _summary(name, per_user, recommended, catalog_size, samples) -> MethodResult:
    per_user = {m: np.asarray(v, dtype=np.float64) for m, v in per_user.items()}
    values, intervals = {}, {}
    for metric, array in per_user.items():
        values[metric] = float(np.nanmean(array)) if len(array) and \
            not np.isnan(array).all() else float("nan")
        intervals[metric] = metrics.interval(array, samples)
    values["coverage"] = metrics.coverage(recommended, catalog_size)
    intervals["coverage"] = metrics.coverage_interval(recommended, catalog_size, samples)
    return MethodResult(name=name, values=values, intervals=intervals, per_user=per_user)
