"""Smoke test of the trained ranking's benchmark at a tiny scale: it runs, the model it
serves is the size its shape says, and every operation is measured (no timing asserted)."""
import argparse

from bench import model_bench

ANIME, TOP_N = 2_000, 32


def test_the_model_benchmark_measures_every_operation_on_a_mapped_model():
    result = model_bench.run(argparse.Namespace(
        users=300, anime=ANIME, top_n=TOP_N, samples=20, rounds=1, seed=3, train_users=0))
    assert result["requesters"] > 0
    operations = {row["operation"]: row for row in result["engine"]}
    assert set(operations) == {"rank top 320", "page b1 p1, stored neighbours",
                               "page b1 p1, fresh neighbours", "random b1, stored neighbours"}
    for row in operations.values():
        assert row["n"] == result["requesters"] and 0 < row["p50_ms"] <= row["p99_ms"]
    # Two matrices of ANIME x TOP_N weights (int32 target + float32 weight) dominate.
    weights_mb = 2 * ANIME * TOP_N * 8 / 2**20
    assert weights_mb <= result["memory"]["model_files_mb"] <= weights_mb * 1.2
