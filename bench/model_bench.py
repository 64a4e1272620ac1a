"""Serving cost of the opt-in trained ranking (``?algorithm=scored_ease``), engine only.

    .venv/bin/python -m bench.model_bench --users 100000 --anime 20000 >> BENCHMARKS.md  # prints its section

A population of ``--users`` generated as for the engine benchmark (``population``) gives
the neighbour index and the requesters' lists. The model has ``--anime`` anime (the demo
catalog's, then made-up ids past them) and ``top_n`` weights per anime in each of its two
sparse matrices, as training leaves it; it is published and mapped the way a worker maps
it (``model_file``). Its weights are random, since the serving cost does not depend on
their values; ``--train-users N`` also trains a real model on the first N generated users
and reports the training time.

Each operation mirrors ``recommendations.model_service`` minus the database rows (the
requester's list comes from the index, the anime details are left out): the ranking alone,
a page explained by a neighbour list at hand (stored) or scanned (fresh), and a random draw.
Memory: the model's files (one copy in the page cache, shared by every worker) and what a
process gains in resident and in private memory once it has served every requester.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

NEIGHBOURS_KEPT = 32 * 40
BATCH_SIZE = 32
RANKED = 16 * 20
PAGE = 16
RANDOM_SIZE = 32


def synthetic_model(catalog, n_anime: int, top_n: int, seed: int):
    """A ``ScoredEase`` of ``n_anime`` anime with random sparse weights."""
    from recommendations.engine.models.scored_ease import ScoredEase, SparseWeights
    rng = np.random.default_rng(seed)
    ids = catalog.ids[:n_anime]
    extra = n_anime - len(ids)
    if extra > 0:  # made-up anime past the demo catalog, all recommendable
        ids = np.concatenate([ids, ids.max() + 1 + np.arange(extra)])
    recommendable = np.ones(len(ids), dtype=bool)
    recommendable[:min(len(catalog.ids), n_anime)] = \
        ~np.isnan(catalog.mean[:n_anime]) & ~catalog.has_parent[:n_anime]
    targets = np.flatnonzero(recommendable)
    model = ScoredEase(top_n=top_n)
    model.item_ids = ids.astype(np.int64)
    model.target_ids = ids[targets].astype(np.int64)
    model.target_watchers = rng.integers(1, 10_000, len(targets)).astype(np.int32)
    model.target_mean_score = rng.uniform(5, 9, len(targets)).astype(np.float32)

    def sparse():
        keep = min(top_n, len(targets))
        return SparseWeights(
            indptr=np.arange(len(ids) + 1, dtype=np.int64) * keep,
            targets=rng.integers(0, len(targets), len(ids) * keep).astype(np.int32),
            weights=rng.normal(0, 0.01, len(ids) * keep).astype(np.float32))

    model.watched, model.liked = sparse(), sparse()
    return model


def trained_model(state, catalog, n_users: int):
    """A real ``ScoredEase`` trained on the index's first ``n_users`` users, and seconds."""
    from recommendations.engine.models.base import Interactions
    from recommendations.engine.models.scored_ease import ScoredEase
    users = state.users
    stop = int(users.indptr[min(n_users, len(users.ids))])
    owner = np.repeat(users.ids, np.diff(users.indptr))[:stop]
    interactions = Interactions(user_ids=owner, anime_ids=users.anime_ids[:stop].astype(np.int64),
                                scores=users.scores[:stop].astype(np.int64),
                                updated=users.updated[:stop].astype(float))
    started = time.perf_counter()
    model = ScoredEase().fit(interactions, state.catalog)
    return model, time.perf_counter() - started


def explain(state, members, anime_ids):
    """As ``model_service._explained`` without the anime details."""
    from recommendations.services import _user_dicts
    ids, dists = members
    owners = _user_dicts(state.users, ids, dists)
    entries = state.users.entries_of(ids)
    out = []
    for anime_id in anime_ids:
        mine = np.flatnonzero(entries.anime_ids == anime_id)
        users = [{**owners[o], "score": int(s)} for o, s in
                 zip(entries.owner[mine].tolist(), entries.scores[mine].tolist())
                 if owners[o] is not None]
        out.append({"id": anime_id, "users": users})
    return out


def measure(state, loaded, requesters, allowed, rounds: int) -> list[dict]:
    model = loaded.model
    rng = np.random.default_rng(0)

    def ranked(r):
        return model.recommend(r["list"], RANKED, allowed=allowed).anime_ids

    def page(r, neighbours):
        top = ranked(r)[:PAGE].tolist()
        return explain(state, (neighbours[0][:BATCH_SIZE], neighbours[1][:BATCH_SIZE]), top)

    def draw(r):
        top = ranked(r)
        weights = state.catalog.mean[state.catalog.rows_of_ids(top)]
        weights = np.nan_to_num(weights, nan=7.0) ** 2  # made-up anime: a plain 7.0
        picks = rng.choice(len(top), size=min(RANDOM_SIZE, len(top)), replace=False,
                           p=weights / weights.sum())
        stored = r["neighbours"]
        return explain(state, (stored[0][:BATCH_SIZE], stored[1][:BATCH_SIZE]),
                       top[picks].tolist())

    def fresh_page(r):
        return page(r, state.users.nearest(r["hash"], NEIGHBOURS_KEPT, exclude_id=r["id"]))

    operations = [
        ("rank top 320", ranked),
        ("page b1 p1, stored neighbours", lambda r: page(r, r["neighbours"])),
        ("page b1 p1, fresh neighbours", fresh_page),
        ("random b1, stored neighbours", draw),
    ]
    results = []
    for name, operation in operations:
        samples = []
        for _ in range(rounds):
            for r in requesters:
                t0 = time.perf_counter_ns()
                operation(r)
                samples.append(time.perf_counter_ns() - t0)
        ms = np.array(samples) / 1e6
        results.append({"operation": name, "p50_ms": float(np.percentile(ms, 50)),
                        "p99_ms": float(np.percentile(ms, 99)), "n": len(samples)})
    return results


def requesters_of(state, sample):
    from recommendations.engine.models.base import UserList
    out = []
    for number in sample.tolist():
        row = state.users.row_of(number + 1)
        if row is None:
            continue
        entries = state.users.entries_of([number + 1])
        user_list = UserList(anime_ids=entries.anime_ids.astype(np.int64),
                             scores=entries.scores.astype(np.int64),
                             updated=entries.updated.astype(float),
                             listed_anime_ids=entries.anime_ids.astype(np.int64))
        user_hash = int(state.users.hashes[row])
        out.append({"id": number + 1, "hash": user_hash, "list": user_list,
                    "neighbours": state.users.nearest(user_hash, NEIGHBOURS_KEPT,
                                                      exclude_id=number + 1)})
    return out


def _memory():
    import psutil
    info = psutil.Process().memory_info()
    return info.rss / 2**20, (info.rss - info.shared) / 2**20


def run(args) -> dict:
    import django
    django.setup()  # the models' modules are imported, the database is not used
    from bench import population
    from recommendations.engine import model_file
    catalog = population.load_catalog()
    rng = np.random.default_rng(args.seed + 100)
    sample = rng.choice(args.users, size=min(args.samples, args.users), replace=False)
    state, _, _ = population.index_state(args.users, args.seed, catalog, sample)
    requesters = requesters_of(state, sample)
    result = {"users": args.users, "indexed_users": len(state.users), "anime": args.anime,
              "top_n": args.top_n, "requesters": len(requesters)}
    if args.train_users:
        trained, seconds = trained_model(state, state.catalog, args.train_users)
        result["training"] = {"users": args.train_users, "anime": len(trained.item_ids),
                              "seconds": seconds}
    model = synthetic_model(catalog, args.anime, args.top_n, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        version = model_file.publish(model, Path(folder), {"bench": True})
        del model
        files = sum(f.stat().st_size for f in (Path(folder) / version).iterdir())
        rss_before, private_before = _memory()
        loaded = model_file.load(Path(folder), version)
        rows = state.catalog.rows_of_ids(loaded.model.target_ids)
        allowed = np.where(rows >= 0, state.catalog.recommendable[rows], True)
        result["engine"] = measure(state, loaded, requesters, allowed, args.rounds)
        rss_after, private_after = _memory()
    result["memory"] = {"model_files_mb": files / 2**20,
                        "rss_gain_mb": rss_after - rss_before,
                        "private_gain_mb": private_after - private_before}
    return result


def markdown(result: dict, command: str) -> str:
    """The BENCHMARKS.md section of one run."""
    memory = result["memory"]
    lines = [
        "## Trained ranking (`?algorithm=scored_ease`)", "",
        f"Run on {result['run_at']}, by:", "", "```", command, "```", "",
        f"Engine only (no database), {result['indexed_users']:,} indexed users, a model of "
        f"{result['anime']:,} anime with {result['top_n']} weights per anime in each of its two "
        f"sparse matrices (random weights: the cost does not depend on their values), "
        f"{result['requesters']} requesters. Load average before: {result['load_before']}, "
        f"after: {result['load_after']} (a shared 2-core machine: the p99s are noisy).", "",
        "| operation | p50 ms | p99 ms | samples |", "|---|---|---|---|",
    ]
    for row in result["engine"]:
        lines.append(f"| {row['operation']} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | "
                     f"{row['n']} |")
    lines += [
        "", f"Memory: the model's files are {memory['model_files_mb']:.0f} MB, mapped read-only "
        f"and shared by every worker through the page cache. Serving every requester made the "
        f"process's resident size grow by {memory['rss_gain_mb']:.0f} MB (the mapped pages it "
        f"touched, shared) and its private memory by {memory['private_gain_mb']:.1f} MB: the "
        "extra cost of one more worker is the private part. Budget: engine p50 ≤ 3 ms at "
        "100,000 users, ≤ 300 MB extra per worker at 20,000 anime.", ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--anime", type=int, default=20_000)
    parser.add_argument("--top-n", type=int, default=256)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--train-users", type=int, default=0)
    parser.add_argument("--out", help="also write the raw results here (JSON)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reko.settings")
    os.environ.setdefault("DEBUG", "1")
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    result = run(args)
    result.update(run_at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  load_before=load_before,
                  load_after=", ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))
    command = ".venv/bin/python -m bench.model_bench " + " ".join(argv or sys.argv[1:])
    print(markdown(result, command))


if __name__ == "__main__":
    main()
