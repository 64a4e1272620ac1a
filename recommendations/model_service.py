"""The opt-in trained ranking (``?algorithm=scored_ease``): training from the database, the
model each process serves, and its recommendation pages in the contract's shapes.

The model is trained by ``manage.py train_model`` into ``MODEL_DIR`` (see
``engine.model_file``). Each process checks the ``CURRENT`` pointer at most every
``INDEX_POLL_SECONDS`` and maps a new version when it appears; a request takes the model
once (``model_for``) and uses that object to the end, so a retrain never mixes two.

What a page says:
- the order is the model's (see ``engine.models.scored_ease``), from the requester's own
  list as stored now (fold-in: a user fetched after the training is served too);
- ``users`` are the members of the requester's neighbour batch (the contract's neighbour
  list and batches) who scored that anime, most similar first, with their score;
- ``score`` is the floor of those users' mean score, or, when none of them scored it,
  the floor of the anime's mean score among everyone the model was trained on.
"""
import threading
import time
from pathlib import Path

import numpy as np
from django.conf import settings

from recommendations import live_index, selectors, services
from recommendations.engine import model_file
from recommendations.engine.models.base import Interactions, UserList
from recommendations.engine.models.scored_ease import NAME, ScoredEase
from recommendations.neighbours import neighbours_of
from reko.exceptions import ApiError
from users.models import MalUser

ALGORITHMS = (NAME,)
# What the pages can show: 20 pages of 16.
RANKED = services.RECOMMENDATION_PAGE_SIZE * services.RECOMMENDATION_MAX_PAGE


class ModelNotTrained(ApiError):
    status, id = 503, "ModelNotTrained"
    default_message = ("This algorithm has not been trained yet on this server "
                       "(manage.py train_model). Ask again without 'algorithm'.")


def model_folder(algorithm: str = NAME) -> Path:
    return Path(settings.MODEL_DIR) / algorithm


# ----- training -------------------------------------------------------------------------

def train(*, algorithm: str = NAME, progress=None) -> model_file.Loaded:
    """Train on every stored watched, scored entry and publish the result as current."""
    step = progress or (lambda name: None)
    columns = selectors.index_entry_columns()
    catalog = selectors.index_catalog()
    step("load")
    if not len(columns["user_id"]):
        raise ValueError("there are no watched, scored entries to train on")
    interactions = Interactions(
        user_ids=columns["user_id"], anime_ids=columns["anime_id"].astype(np.int64),
        scores=columns["score"].astype(np.int64), updated=columns["updated"].astype(float))
    model = ScoredEase().fit(interactions, catalog, progress=step)
    if not len(model.target_ids):
        raise ValueError("no recommendable anime is watched by enough users to train on")
    meta = {"algorithm": algorithm, "trained_at": time.time(),
            "users": int(len(np.unique(columns["user_id"]))),
            "entries": int(len(columns["user_id"])),
            "anime": int(len(model.item_ids)), "recommendable": int(len(model.target_ids)),
            "weights": int(len(model.watched.weights) + len(model.liked.weights))}
    folder = model_folder(algorithm)
    version = model_file.publish(model, folder, meta)
    step("save")
    return model_file.load(folder, version)


# ----- the model each process serves ----------------------------------------------------

_lock = threading.Lock()
_served: dict[str, tuple[float, model_file.Loaded | None]] = {}


def model_for(algorithm: str) -> model_file.Loaded:
    """The current version of ``algorithm`` (re-checked every ``INDEX_POLL_SECONDS``);
    ``ModelNotTrained`` before the first training."""
    checked_at, loaded = _served.get(algorithm, (float("-inf"), None))
    if time.monotonic() - checked_at >= settings.INDEX_POLL_SECONDS:
        with _lock:
            checked_at, loaded = _served.get(algorithm, (float("-inf"), None))
            if time.monotonic() - checked_at >= settings.INDEX_POLL_SECONDS:
                loaded = _latest(algorithm, loaded)
                _served[algorithm] = (time.monotonic(), loaded)
    if loaded is None:
        raise ModelNotTrained()
    return loaded


def _latest(algorithm: str, loaded: model_file.Loaded | None) -> model_file.Loaded | None:
    folder = model_folder(algorithm)
    for _ in range(3):  # a version removed between reading CURRENT and opening it: read again
        version = model_file.current_version(folder)
        if version is None:
            return None
        if loaded is not None and loaded.version == version:
            return loaded
        try:
            return model_file.load(folder, version)
        except FileNotFoundError:
            continue
    return loaded


def forget_models() -> None:
    """Drop the loaded models; the next request reads ``MODEL_DIR`` again (tests)."""
    with _lock:
        _served.clear()


# ----- pages ------------------------------------------------------------------------------

def _ranked(loaded: model_file.Loaded, user: MalUser, catalog) -> np.ndarray:
    """The model's top ``RANKED`` anime ids for the user's list as stored now."""
    entries = selectors.index_entries([user.id])
    user_list = UserList(anime_ids=entries["anime_id"], scores=entries["score"],
                         updated=entries["updated"].astype(float),
                         listed_anime_ids=selectors.user_anime_ids(user), hash=user.hash)
    return loaded.model.recommend(user_list, RANKED,
                                  allowed=_allowed(loaded, catalog)).anime_ids


_allowed_cache: dict[str, tuple] = {}


def _allowed(loaded: model_file.Loaded, catalog) -> np.ndarray:
    """Which of the model's anime today's catalog still finds recommendable (one that
    became a sequel or left the catalog since the training is not offered)."""
    key = loaded.version
    cached = _allowed_cache.get(key)
    if cached is None or cached[0] is not catalog:
        rows = catalog.rows_of_ids(loaded.model.target_ids)
        allowed = (rows >= 0) & catalog.recommendable[rows]
        _allowed_cache.clear()
        _allowed_cache[key] = cached = (catalog, allowed)
    return cached[1]


def _explained(loaded: model_file.Loaded, user: MalUser, anime_ids: list[int],
               batch: int, *, starts_walk: bool) -> list[dict]:
    """Recommendation dicts for these anime, in this order, explained by the batch (of
    the neighbour list the contract's pages use: ``starts_walk`` as there)."""
    members = neighbours_of(user, starts_walk=starts_walk).window(batch, services.BATCH_SIZE)
    index = live_index.current_index().users
    owners = services.user_dicts(index, members.ids, members.distances)
    entries = index.entries_of(members.ids)
    details = live_index.anime_details_of(anime_ids, services.anime_details)
    model = loaded.model
    positions = np.searchsorted(model.target_ids, np.asarray(anime_ids, dtype=np.int64))
    mean_scores = model.target_mean_score[positions].tolist()  # every ranked id is a target
    out = []
    for anime_id, mean_score in zip(anime_ids, mean_scores):
        if anime_id not in details:  # left the catalog since the index polled
            continue
        mine = np.flatnonzero(entries.anime_ids == anime_id)  # by owner: most similar first
        users = [{**owners[o], "score": int(s)} for o, s in
                 zip(entries.owner[mine].tolist(), entries.scores[mine].tolist())
                 if owners[o] is not None]
        if users:
            score = sum(u["score"] for u in users) // len(users)
        else:
            score = int(mean_score)
        out.append({"id": anime_id, "score": max(1, min(10, score)),
                    "details": details[anime_id], "users": users})
    return out


def recommendations_page(loaded: model_file.Loaded, user: MalUser, *, batch: int,
                         page: int) -> tuple[list[dict], bool]:
    ranked = _ranked(loaded, user, live_index.current_index().catalog).tolist()
    start = (page - 1) * services.RECOMMENDATION_PAGE_SIZE
    stop = start + services.RECOMMENDATION_PAGE_SIZE
    return (_explained(loaded, user, ranked[start:stop], batch,
                       starts_walk=batch == 1 and page == 1), len(ranked) > stop)


def random_recommendations(loaded: model_file.Loaded, user: MalUser, *,
                           batch: int) -> list[dict]:
    """Up to 32 of the model's top ``RANKED`` drawn at random, weighted like the contract's
    random (anime mean squared), in draw order."""
    catalog = live_index.current_index().catalog
    ranked = _ranked(loaded, user, catalog)
    if not len(ranked):
        return []
    weights = catalog.mean[catalog.rows_of_ids(ranked)] ** 2
    picks = np.random.default_rng().choice(
        len(ranked), size=min(services.RANDOM_SIZE, len(ranked)), replace=False,
        p=weights / weights.sum())
    return _explained(loaded, user, ranked[picks].tolist(), batch, starts_walk=batch == 1)
