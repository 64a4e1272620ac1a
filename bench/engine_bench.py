"""Engine latency: the services' in-memory steps, timed without the database.

Each operation does what ``recommendations.services`` does for a route, minus the rows the
database supplies (the requester, the stored snapshot, the anime details): the neighbour
scan (a *fresh* snapshot) or a neighbour list already at hand (a *stored* one), then the
page's users or the ranking of the batch and the page's contributors.
"""
import time
from dataclasses import dataclass

import numpy as np

from recommendations.engine.ranking import random_pick, rank_batch, rank_single_user
from recommendations.engine.similarity import distance, similarity
from recommendations.engine.taste_hash import format_hash

SIMILAR_PAGE_SIZE = 32
NEIGHBOURS_KEPT = 32 * 40
RECOMMENDATION_PAGE_SIZE = 16
RANDOM_SIZE = 32

# (name, kind, arguments): the operations of the report, in its order.
OPERATIONS = [
    ("similar p1", "similar", {"page": 1}),
    ("similar p40", "similar", {"page": 40}),
    ("compare", "compare", {}),
    ("recommendations b1 p1", "recommendations", {"batch": 1, "page": 1}),
    ("recommendations b1 p20", "recommendations", {"batch": 1, "page": 20}),
    ("recommendations b40 p1", "recommendations", {"batch": 40, "page": 1}),
    ("recommendations b40 p20", "recommendations", {"batch": 40, "page": 20}),
    ("random b1", "random", {"batch": 1}),
    ("user recommendations p1", "from_user", {"page": 1}),
]


@dataclass(frozen=True)
class Requester:
    id: int
    hash: int
    anime_ids: np.ndarray  # every anime of the list, any status
    other_id: int
    other_hash: int


def neighbours(state, requester: Requester):
    return state.users.nearest(requester.hash, NEIGHBOURS_KEPT, exclude_id=requester.id)


def _user_dicts(state, ids, dists) -> list:
    # As recommendations.services.user_dicts.
    users = state.users
    rows = users.rows_of(ids)
    found = rows >= 0
    names = iter(users.names[rows[found]].tolist())
    hashes = iter(users.hashes[rows[found]].tolist())
    return [{"username": next(names).decode(), "hash": format_hash(next(hashes)),
             "similarity": int(percent)} if ok else None
            for ok, percent in zip(found.tolist(), similarity(dists).tolist())]


def _page_items(ranking, positions, owners) -> list:
    out = []
    for i in positions:
        who, scores = ranking.contributors(i)
        out.append({"id": int(ranking.anime_ids[i]), "score": int(ranking.scores[i]),
                    "users": [{**owners[o], "score": int(s)}
                              for o, s in zip(who.tolist(), scores.tolist())]})
    return out


def run_operation(state, kind: str, args: dict, requester: Requester, stored, now: float,
                  rng: np.random.Generator):
    """One operation; ``stored`` is the neighbour list, or None to scan for it (fresh)."""
    if kind == "compare":
        return {"hash": format_hash(requester.other_hash),
                "similarity": int(similarity(distance(requester.hash, requester.other_hash)))}
    if kind == "from_user":
        entries = state.users.entries_of([requester.other_id])
        ranking = rank_single_user(entries, state.catalog, exclude_anime_ids=requester.anime_ids,
                                   now=now)
        start = (args["page"] - 1) * RECOMMENDATION_PAGE_SIZE
        return ranking.anime_ids[start:start + RECOMMENDATION_PAGE_SIZE].tolist()
    ids, dists = stored if stored is not None else neighbours(state, requester)
    number = args.get("page") if kind == "similar" else args["batch"]
    window = slice((number - 1) * SIMILAR_PAGE_SIZE, number * SIMILAR_PAGE_SIZE)
    if kind == "similar":
        return _user_dicts(state, ids[window], dists[window])
    members, member_dists = ids[window], dists[window]
    entries = state.users.entries_of(members)
    ranking = rank_batch(entries, state.catalog, exclude_anime_ids=requester.anime_ids, now=now)
    owners = _user_dicts(state, members, member_dists)
    if kind == "random":
        return _page_items(ranking, random_pick(ranking, state.catalog, size=RANDOM_SIZE,
                                                rng=rng).tolist(), owners)
    start = (args["page"] - 1) * RECOMMENDATION_PAGE_SIZE
    stop = min(start + RECOMMENDATION_PAGE_SIZE, len(ranking))
    return _page_items(ranking, range(start, stop), owners)


def measure(state, requesters: list[Requester], *, now: float, seed: int = 1,
            rounds: int = 1) -> list[dict]:
    """p50/p99 (ms) of every operation, fresh and stored, over the requesters."""
    rng = np.random.default_rng(seed)
    stored = {r.id: neighbours(state, r) for r in requesters}
    results = []
    for name, kind, args in OPERATIONS:
        row = {"operation": name}
        modes = ("fresh", "stored") if kind not in ("compare", "from_user") else ("stored",)
        for mode in modes:
            samples = []
            for _ in range(rounds):
                for r in requesters:
                    given = stored[r.id] if mode == "stored" else None
                    t0 = time.perf_counter_ns()
                    run_operation(state, kind, args, r, given, now, rng)
                    samples.append(time.perf_counter_ns() - t0)
            ms = np.array(samples) / 1e6
            row[f"{mode}_p50"] = float(np.percentile(ms, 50))
            row[f"{mode}_p99"] = float(np.percentile(ms, 99))
            row[f"{mode}_n"] = len(samples)
        if "fresh_p50" not in row:  # no scan involved: fresh is the same as stored
            row.update(fresh_p50=row["stored_p50"], fresh_p99=row["stored_p99"],
                       fresh_n=row["stored_n"])
        results.append(row)
    return results
