"""Smoke test of the benchmark (issue 4) at a tiny scale: it runs, and its output is sane.

No timing is asserted: CI machines vary. The full run is ``python -m bench.run``.
"""
import numpy as np
import pytest

from bench import engine_bench, population
from bench.engine_bench import OPERATIONS, Requester
from bench.generate import generate_into_db
from recommendations import live_index
from recommendations.models import Anime, IndexChange, SimilaritySnapshot
from users.models import ListEntry, MalUser
from users.services import hashes_for_users

USERS = 300


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """One population for the module (the catalog import is most of the time), removed
    at the end so that later tests find an empty database."""
    with django_db_blocker.unblock():
        yield generate_into_db(users=USERS, seed=7, progress=False)
        for model in (ListEntry, SimilaritySnapshot, MalUser, Anime, IndexChange):
            model.objects.all().delete()


def test_the_generator_writes_a_long_tailed_population_with_valid_rows(generated, db):
    assert generated.users == MalUser.objects.count() == USERS
    assert generated.entries == ListEntry.objects.count()
    lengths = generated.list_lengths
    assert 90 <= lengths["median"] <= 230  # aimed at ~150
    assert lengths["max"] > 4 * lengths["median"]  # a long tail
    scores = {int(k): v for k, v in generated.scores.items()}
    assert set(scores) <= set(range(11)) and scores[0] > 0 and scores[10] > 0
    assert set(generated.statuses) == set(ListEntry.Status.values)
    assert generated.update_years["last"] - generated.update_years["first"] >= 5
    assert not ListEntry.objects.filter(score__gt=10).exists()


def test_generated_hashes_are_non_zero_and_follow_the_apps_rule(generated, db):
    stored = dict(MalUser.objects.values_list("id", "hash"))
    assert generated.hashed_users == sum(h is not None for h in stored.values()) >= USERS - 3
    assert all(h != 0 for h in stored.values() if h is not None)
    some = sorted(stored)[:40]
    assert hashes_for_users(some) == {i: stored[i] for i in some}


def test_the_population_is_deterministic():
    catalog = population.load_catalog()
    first = next(population.generate(50, 3, catalog))
    again = next(population.generate(50, 3, catalog))
    assert np.array_equal(first.hashes, again.hashes)
    assert np.array_equal(first.anime_id, again.anime_id)


def test_the_engine_benchmark_reports_every_operation(generated, db):
    state = live_index.build_index()
    rng = np.random.default_rng(1)
    requesters = []
    for user_id in rng.choice(state.users.ids, size=5, replace=False).tolist():
        row = state.users.row_of(user_id)
        anime = np.fromiter(ListEntry.objects.filter(user_id=user_id)
                            .values_list("anime_id", flat=True), dtype=np.int64)
        requesters.append(Requester(id=user_id, hash=int(state.users.hashes[row]),
                                    anime_ids=anime, other_id=int(state.users.ids[0]),
                                    other_hash=int(state.users.hashes[0])))
    results = engine_bench.measure(state, requesters, now=population.NOW)
    assert [r["operation"] for r in results] == [name for name, _, _ in OPERATIONS]
    for row in results:
        for key in ("fresh_p50", "fresh_p99", "stored_p50", "stored_p99"):
            assert np.isfinite(row[key]) and row[key] >= 0
        assert row["stored_n"] == len(requesters)
    # The operations return real data: a full similar page, a ranked recommendation page.
    similar = engine_bench.run_operation(state, "similar", {"page": 1}, requesters[0], None,
                                         population.NOW, rng)
    assert len(similar) == 32 and all(u is not None for u in similar)
    page = engine_bench.run_operation(state, "recommendations", {"batch": 1, "page": 1},
                                      requesters[0], None, population.NOW, rng)
    assert 0 < len(page) <= 16 and all(item["users"] for item in page)
