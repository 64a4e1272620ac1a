"""Cost of the opt-in trained ranking (``?algorithm=scored_ease``): serving and training.

    .venv/bin/python -m bench.model_bench --users 100000 --anime 20000 --out model.json

``bench.run`` runs it as one of its steps and ``bench.report`` renders its section of
BENCHMARKS.md; run alone, it prints that section.

Serving (engine only, no database): a population of ``--users`` generated as for the
engine benchmark (``population``) gives the neighbour index and the requesters' lists.
The model has ``--anime`` anime (the demo catalog's, then made-up ids past them) and
``top_n`` weights per anime in each of its two sparse matrices, as training leaves it; it
is published and mapped the way a worker maps it (``model_file``). Its weights are
random, since the serving cost does not depend on their values. Each operation mirrors
``recommendations.model_service`` minus the database rows (the requester's list comes
from the index, the anime details are left out): the ranking alone, a page explained by a
neighbour list at hand (stored) or scanned (fresh), and a random draw. Memory: the model's
files (one copy in the page cache, shared by every worker) and what a process gains in
resident and in private memory once it has served every requester.

Training (``--train-users N``, 0 skips it): a real ``ScoredEase().fit`` on the watched,
scored entries of the first N generated users (the entries the index keeps), in a child
process of its own so that its peak resident memory is the training's alone. The demo
catalog has 12,294 anime; to span ``--anime`` distinct anime the entries are remapped,
deterministically: the ``--anime`` - 12,294 least popular demo anime each get a made-up
twin (ids past the demo catalog's largest, with the original's mean and sequel flag),
and the odd-numbered users' entries of those anime go to the twin. The two halves of the
users share the popular anime and differ in the tail, as a larger catalog's extra anime
mostly are. The model keeps the ``--anime`` most watched (its ``max_items``), as
production's training does.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

NEIGHBOURS_KEPT = 32 * 40
BATCH_SIZE = 32
RANKED = 16 * 20
PAGE = 16
RANDOM_SIZE = 32
# Users a training reads by default: enough for every twin to occur (at 20,000 anime each
# anime has 13 users or more) while the training stays about ten minutes on 2 cores (its
# co-occurrence grows with the users, its inversions do not).
TRAIN_USERS = 20_000


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


@dataclass(frozen=True)
class Twins:
    """Made-up anime that double some demo anime for half of the users (see the module
    docstring): ``ids[k]`` is the twin of catalog row ``rows[k]``."""

    rows: np.ndarray  # int64, catalog rows, least popular first
    ids: np.ndarray  # int64, past the catalog's largest id

    @classmethod
    def to_span(cls, catalog, anime: int) -> "Twins":
        """The twins that make the catalog ``anime`` long (at most one per demo anime)."""
        extra = min(max(anime - len(catalog.ids), 0), len(catalog.ids))
        rows = np.argsort(catalog.popularity, kind="stable")[:extra].astype(np.int64)
        return cls(rows=rows, ids=int(catalog.ids.max()) + 1 + np.arange(extra, dtype=np.int64))

    def remap(self, catalog, user_numbers: np.ndarray, anime_ids: np.ndarray) -> np.ndarray:
        """The entries' anime ids, the odd-numbered users' twinned anime replaced by twins."""
        twin_of_row = np.full(len(catalog.ids), -1, dtype=np.int64)
        twin_of_row[self.rows] = self.ids
        twin = twin_of_row[np.searchsorted(catalog.ids, anime_ids)]
        return np.where((user_numbers % 2 == 1) & (twin >= 0), twin, anime_ids)

    def catalog(self, catalog):
        """The training's ``Catalog``: the demo catalog and the twins, each twin with its
        original's mean and sequel flag (so as recommendable as the original)."""
        from recommendations.engine.ranking import Catalog
        return Catalog.from_arrays(
            ids=np.concatenate([catalog.ids, self.ids]),
            mean=np.concatenate([catalog.mean, catalog.mean[self.rows]]),
            has_parent=np.concatenate([catalog.has_parent, catalog.has_parent[self.rows]]))


def training_set(users: int, anime: int, seed: int, catalog):
    """The first ``users`` generated users' watched, scored entries as ``Interactions``,
    spanning up to ``anime`` distinct anime through ``Twins``; the matching catalog; the
    twins."""
    from bench import population
    from recommendations.engine.models.base import Interactions
    twins = Twins.to_span(catalog, anime)
    parts = []
    for chunk in population.generate(users, seed, catalog):
        keep = population.watched_and_scored(chunk)
        user_numbers = chunk.user[keep]
        parts.append((user_numbers + 1,
                      twins.remap(catalog, user_numbers, chunk.anime_id[keep].astype(np.int64)),
                      chunk.score[keep].astype(np.int64), chunk.updated[keep].astype(float)))
    interactions = Interactions(*(np.concatenate(column) for column in zip(*parts)))
    return interactions, twins.catalog(catalog), twins


def training(users: int, anime: int, top_n: int, seed: int) -> dict:
    """Train a ``ScoredEase`` of at most ``anime`` anime on ``training_set``, in this
    process: seconds per ``fit`` step and this process's peak resident memory."""
    import resource

    from bench import population
    from recommendations.engine.models.scored_ease import ScoredEase
    interactions, catalog, twins = training_set(users, anime, seed,
                                                population.load_catalog())
    rss_before, _ = _memory()
    started = time.perf_counter()
    steps, last = {}, [started]

    def progress(step: str) -> None:  # fit calls it at the end of each step
        now = time.perf_counter()
        steps[step] = now - last[0]
        last[0] = now

    model = ScoredEase(top_n=top_n, max_items=anime).fit(interactions, catalog, progress)
    seconds = time.perf_counter() - started
    return {
        "users": users, "entries": len(interactions.user_ids),
        "anime_spanned": int(len(np.unique(interactions.anime_ids))),
        "twins": len(twins.ids),
        "anime": len(model.item_ids), "recommendable": len(model.target_ids),
        "weights": int(len(model.watched.weights) + len(model.liked.weights)),
        "seconds": seconds, "steps_s": steps, "rss_before_mb": rss_before,
        # Linux reports ru_maxrss in KiB.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def training_in_child(args) -> dict:
    """``training`` in a fresh interpreter (``--train-only``): its peak resident memory is
    the training's own, not this process's population and model."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.model_bench", "--train-only",
         "--train-users", str(args.train_users), "--anime", str(args.anime),
         "--top-n", str(args.top_n), "--seed", str(args.seed)],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def explain(state, members, anime_ids):
    """As ``model_service._explained`` without the anime details."""
    from recommendations.services import user_dicts
    ids, dists = members
    owners = user_dicts(state.users, ids, dists)
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
    """Training (first, in a child, before this process holds anything big), then serving."""
    import django
    django.setup()  # the models' modules are imported, the database is not used
    from bench import population
    from recommendations.engine import model_file
    result = {"users": args.users, "anime": args.anime, "top_n": args.top_n}
    if args.train_users:
        result["training"] = training_in_child(args)
    catalog = population.load_catalog()
    rng = np.random.default_rng(args.seed + 100)
    sample = rng.choice(args.users, size=min(args.samples, args.users), replace=False)
    state, _, _ = population.index_state(args.users, args.seed, catalog, sample)
    requesters = requesters_of(state, sample)
    result.update(indexed_users=len(state.users), requesters=len(requesters))
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--anime", type=int, default=20_000,
                        help="anime of the served model, and of the trained one")
    from recommendations.engine.models.scored_ease import ScoredEase  # Django-free
    parser.add_argument("--top-n", type=int, default=ScoredEase.top_n,
                        help="weights kept per anime (default: the model's own)")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--train-users", type=int, default=TRAIN_USERS,
                        help="users whose lists a real training reads; 0 skips the training")
    parser.add_argument("--train-only", action="store_true",
                        help="only train, in this process, and print the result as JSON")
    parser.add_argument("--out", help="also write the raw results here (JSON)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reko.settings")
    os.environ.setdefault("DEBUG", "1")
    if args.train_only:
        import django
        django.setup()
        print(json.dumps(training(args.train_users, args.anime, args.top_n, args.seed)))
        return
    command = ".venv/bin/python -m bench.model_bench " + " ".join(
        argv if argv is not None else sys.argv[1:])
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    result = run(args)
    result.update(command=command, run_at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  load_before=load_before,
                  load_after=", ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))
    from bench import report
    print("\n".join(report.model_section(result)))


if __name__ == "__main__":
    main()
