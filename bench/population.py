"""A deterministic synthetic population of MyAnimeList users, as numpy arrays (no Django).

The model, chosen to look like real MAL data at the level the engine cares about:

* list lengths are log-normal (median about 150, a long tail past 2,000, capped by the
  catalog size);
* anime popularity follows a power law over the real catalog's popularity rank (the demo
  catalog's ``members`` column);
* each user belongs to one of ``CLUSTERS`` taste clusters, each favouring a few genres:
  most of a user's list is drawn from the cluster's genre-weighted popularity, the rest
  from plain popularity, heavy users reaching further into the tail;
* scores 1-10 from the anime's mean, a per-user bias and a genre bonus; some users leave
  many entries unscored (0), plan-to-watch entries always are;
* statuses in MAL-like shares; update times spread over years, after the user's join date.

The same ``seed`` and user count always give the same arrays: each chunk of users draws
from its own generator seeded by ``(seed, chunk number)``.
"""
import csv
import time
from dataclasses import dataclass

import numpy as np

from recommendations.catalog_files import open_text, parse_demo_csv, parse_sequels_csv
from recommendations.demo import DEMO_DIR
from recommendations.models import anime_hash_slots
from recommendations.engine.taste_hash import (
    MAX_ENTRIES, SlotTable, counters_for_users, hash_from_counters, latest_entries_mask,
)

CLUSTERS = 24
CHUNK_USERS = 25_000
MEDIAN_LENGTH = 150
LENGTH_SIGMA = 1.05
MAX_LENGTH = 6_000
POPULARITY_EXPONENT = 0.85
# The reference "now" of every generated population (update times lie before it).
NOW = 1_793_491_200  # 2026-11-01T00:00:00Z
EARLIEST_JOIN = 1_199_145_600  # 2008-01-01T00:00:00Z

STATUSES = ("completed", "watching", "on_hold", "dropped", "plan_to_watch")
STATUS_SHARES = (0.62, 0.08, 0.05, 0.07, 0.18)
COMPLETED, WATCHING, ON_HOLD, DROPPED, PLAN_TO_WATCH = range(5)


@dataclass(frozen=True)
class CatalogData:
    """The demo catalog as the generator needs it, rows sorted by anime id."""

    records: list  # AnimeRecord, as read from the file
    sequels: list  # (parent, child)
    ids: np.ndarray  # int64
    mean: np.ndarray  # float64, NaN when unknown
    episodes: np.ndarray  # int64, 0 when unknown
    has_parent: np.ndarray  # bool
    popularity: np.ndarray  # float64, sums to 1
    genre_matrix: np.ndarray  # bool, (n_anime, n_genre_ids)
    slot_table: SlotTable


@dataclass
class Chunk:
    """Users ``first_user .. first_user + n_users - 1`` (0-based) and their entries.

    Entries are sorted by user, then anime id; ``user`` is the 0-based user number.
    """

    first_user: int
    n_users: int
    hashes: np.ndarray  # uint64, per user
    user: np.ndarray  # int64
    anime_id: np.ndarray  # int32
    status: np.ndarray  # uint8, index into STATUSES
    score: np.ndarray  # uint8
    episodes: np.ndarray  # int32
    updated: np.ndarray  # int64, epoch seconds


def username(number: int) -> str:
    """Generated usernames: ``bench0000001``... (lower case, valid MAL names)."""
    return f"bench{number:07d}"


def load_catalog(data_dir=DEMO_DIR) -> CatalogData:
    with open_text(data_dir / "anime.csv.gz") as f:
        records = parse_demo_csv(f)
    with open_text(data_dir / "sequels.csv") as f:
        sequels = parse_sequels_csv(f)
    with open_text(data_dir / "anime.csv.gz") as f:
        members = {int(r["anime_id"]): int(r["members"] or 0) for r in csv.DictReader(f)}
    records.sort(key=lambda r: r.id)
    ids = np.array([r.id for r in records], dtype=np.int64)
    children = {child for _, child in sequels}
    rank = np.argsort(np.argsort([-members.get(r.id, 0) for r in records], kind="stable"))
    popularity = (rank + 1.0) ** -POPULARITY_EXPONENT
    genre_ids = sorted({g for r in records for g in r.genres})
    column = {g: i for i, g in enumerate(genre_ids)}
    genre_matrix = np.zeros((len(records), len(genre_ids)), dtype=bool)
    for row, r in enumerate(records):
        genre_matrix[row, [column[g] for g in r.genres]] = True
    return CatalogData(
        records=records, sequels=sequels, ids=ids,
        mean=np.array([np.nan if r.mean is None else r.mean for r in records]),
        episodes=np.array([r.episodes or 0 for r in records], dtype=np.int64),
        has_parent=np.isin(ids, list(children)),
        popularity=popularity / popularity.sum(),
        genre_matrix=genre_matrix,
        slot_table=SlotTable([
            anime_hash_slots(start_date=r.start_date, episodes=r.episodes, rating=r.rating,
                             genres=r.genres) for r in records
        ]),
    )


def _cluster_weights(catalog: CatalogData, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Every cluster's sampling CDF over catalog rows, end to end (cluster c's shifted by
    c), and which anime each cluster likes (has one of its favourite genres)."""
    rng = np.random.default_rng([seed, 7_777])
    n_genres = catalog.genre_matrix.shape[1]
    genre_freq = catalog.genre_matrix.sum(axis=0) + 1.0
    cdfs = np.empty((CLUSTERS, len(catalog.ids)))
    likes = np.zeros((CLUSTERS, len(catalog.ids)), dtype=bool)
    for c in range(CLUSTERS):
        picks = rng.choice(n_genres, size=rng.integers(2, 5), replace=False,
                           p=genre_freq / genre_freq.sum())
        boost = 1.0 + 6.0 * catalog.genre_matrix[:, picks].sum(axis=1)
        w = catalog.popularity * boost
        cdfs[c] = np.cumsum(w / w.sum())
        cdfs[c, -1] = 1.0
        likes[c] = catalog.genre_matrix[:, picks].any(axis=1)
    return (cdfs + np.arange(CLUSTERS)[:, None]).reshape(-1), likes


def generate(n_users: int, seed: int, catalog: CatalogData, chunk_users: int = CHUNK_USERS):
    """Yield the population as ``Chunk`` objects of at most ``chunk_users`` users."""
    cdfs, likes = _cluster_weights(catalog, seed)
    for number, first in enumerate(range(0, n_users, chunk_users)):
        n = min(chunk_users, n_users - first)
        yield _chunk(first, n, np.random.default_rng([seed, number]), catalog, cdfs, likes)


def _chunk(first, n, rng, catalog: CatalogData, cdfs, likes_table) -> Chunk:
    n_anime = len(catalog.ids)
    lengths = np.exp(rng.normal(np.log(MEDIAN_LENGTH), LENGTH_SIGMA, n)).astype(np.int64)
    lengths = np.clip(lengths, 1, MAX_LENGTH)
    cluster = rng.integers(0, CLUSTERS, n)
    # Draw with replacement, then drop repeats: oversample so lists come out near length.
    draws = (lengths * 1.25 + 5).astype(np.int64)
    owner = np.repeat(np.arange(n), draws)
    u = rng.random(owner.size)
    # Heavy watchers reach further into the tail: their plain-popularity share grows.
    tail_share = np.clip(0.1 + 0.5 * np.log10(np.maximum(lengths, 1)) / np.log10(MAX_LENGTH) - 0.2,
                         0.05, 0.6)[owner]
    from_cluster = rng.random(owner.size) >= tail_share
    # One search over every cluster's CDF laid end to end (cluster c's shifted by c).
    rows = np.searchsorted(cdfs, u + cluster[owner]) - cluster[owner] * n_anime
    flat_cdf = np.cumsum(np.sqrt(catalog.popularity))
    flat_cdf /= flat_cdf[-1]
    rows[~from_cluster] = np.searchsorted(flat_cdf, u[~from_cluster])
    rows = np.minimum(rows, n_anime - 1)
    # Unique (user, anime), kept in (user, anime id) order; then trim to the wanted length.
    key = np.sort(owner * n_anime + rows)
    key = key[np.r_[True, key[1:] != key[:-1]]]
    owner, rows = key // n_anime, key % n_anime
    # Which of a user's distinct draws survive the trim is random, not by anime id.
    shuffled = np.argsort(owner + rng.random(key.size))
    position = np.empty(key.size, dtype=np.int64)
    position[shuffled] = np.arange(key.size) - np.searchsorted(owner, owner[shuffled])
    keep = position < lengths[owner]
    owner, rows = owner[keep], rows[keep]
    m = owner.size

    status = rng.choice(len(STATUSES), size=m, p=STATUS_SHARES).astype(np.uint8)
    bias = rng.normal(0.0, 0.9, n)
    unscored_rate = rng.beta(0.6, 4.0, n)
    mean = np.nan_to_num(catalog.mean[rows], nan=6.5)
    likes = likes_table[cluster[owner], rows]
    raw = mean - 0.6 + bias[owner] + 0.8 * likes + rng.normal(0.0, 1.3, m)
    score = np.clip(np.rint(raw), 1, 10).astype(np.uint8)
    score[(rng.random(m) < unscored_rate[owner]) | (status == PLAN_TO_WATCH)] = 0
    total_eps = np.where(catalog.episodes[rows] > 0, catalog.episodes[rows], 12)
    partial = (rng.random(m) * total_eps).astype(np.int64)
    episodes = np.select([status == COMPLETED, status == PLAN_TO_WATCH], [total_eps, 0], partial)

    joined = rng.uniform(EARLIEST_JOIN, NOW - 86_400 * 30, n)
    span = NOW - joined[owner]
    updated = (joined[owner] + span * rng.random(m) ** 0.7).astype(np.int64)

    user = owner + first
    hashes = _hashes(owner, rows, status, score, episodes, updated, n, catalog)
    return Chunk(first_user=first, n_users=n, hashes=hashes, user=user,
                 anime_id=catalog.ids[rows].astype(np.int32), status=status, score=score,
                 episodes=episodes.astype(np.int32), updated=updated)


def _hashes(owner, rows, status, score, episodes, updated, n, catalog) -> np.ndarray:
    """Taste hashes, by the contract's rule, with taste_hash's vectorised functions."""
    watched = (status == COMPLETED) | ((status == WATCHING) & (episodes > 0))
    # Only users with more than MAX_ENTRIES watched entries need the sort of the mask.
    heavy = (np.bincount(owner[watched], minlength=n) > MAX_ENTRIES)[owner[watched]]
    latest = np.ones(int(watched.sum()), dtype=bool)
    latest[heavy] = latest_entries_mask(owner[watched][heavy], updated[watched][heavy],
                                        MAX_ENTRIES)
    counters = counters_for_users(
        user_rows=owner[watched][latest], anime_rows=rows[watched][latest],
        scores=score[watched][latest], n_users=n, table=catalog.slot_table)
    return hash_from_counters(counters)


def watched_and_scored(chunk: Chunk) -> np.ndarray:
    """The entries the index keeps and the models learn from: scored, and completed or
    watching with an episode seen."""
    return (chunk.score > 0) & ((chunk.status == COMPLETED) |
                                ((chunk.status == WATCHING) & (chunk.episodes > 0)))


def index_state(n_users: int, seed: int, catalog: CatalogData, sample: np.ndarray):
    """The engine's ``IndexState`` straight from a generated population (no database),
    every anime of the ``sample`` users' lists (user number -> anime ids), and the
    seconds the index build took (generation excluded)."""
    from recommendations.live_index import IndexState
    from recommendations.engine.ranking import Catalog
    from recommendations.engine.user_index import UserIndex

    parts, hashes, lists = [], [], {}
    wanted = set(int(s) for s in sample)
    for chunk in generate(n_users, seed, catalog):
        keep = watched_and_scored(chunk)
        parts.append((chunk.user[keep] + 1, chunk.anime_id[keep], chunk.score[keep],
                      chunk.updated[keep]))
        hashes.append(chunk.hashes)
        in_sample = np.isin(chunk.user, list(wanted))
        for number in np.unique(chunk.user[in_sample]).tolist():
            lists[number] = chunk.anime_id[chunk.user == number].astype(np.int64)
        del chunk
    hashes = np.concatenate(hashes)
    hashed = np.flatnonzero(hashes != 0)
    started = time.perf_counter()
    users = UserIndex.from_arrays(
        ids=hashed + 1, names=[username(i).encode() for i in hashed.tolist()],
        hashes=hashes[hashed],
        entry_user_ids=np.concatenate([p[0] for p in parts]),
        anime_ids=np.concatenate([p[1] for p in parts]),
        scores=np.concatenate([p[2] for p in parts]),
        updated=np.concatenate([p[3] for p in parts]),
    )
    del parts
    state = IndexState(users=users, catalog=Catalog.from_arrays(
        ids=catalog.ids, mean=catalog.mean, has_parent=catalog.has_parent), last_change_id=0)
    return state, lists, time.perf_counter() - started
