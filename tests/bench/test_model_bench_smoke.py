"""Smoke test of the trained ranking's benchmark at a tiny scale: it runs, the model it
serves is the size its shape says, every operation is measured, a real training runs in
a child process, and its section renders (no timing asserted)."""
import json
from types import SimpleNamespace

import numpy as np

from bench import model_bench, report

ANIME, TOP_N, USERS = 2_000, 32, 300


def test_the_model_benchmark_measures_serving_and_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DEBUG", "1")  # main() would set it for the rest of the session
    out = tmp_path / "model.json"
    model_bench.main(["--users", str(USERS), "--anime", str(ANIME), "--top-n", str(TOP_N),
                      "--samples", "20", "--rounds", "1", "--seed", "3",
                      "--train-users", str(USERS), "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["requesters"] > 0
    operations = {row["operation"]: row for row in result["engine"]}
    assert set(operations) == {"rank top 320", "page b1 p1, stored neighbours",
                               "page b1 p1, fresh neighbours", "random b1, stored neighbours"}
    for row in operations.values():
        assert row["n"] == result["requesters"] and 0 < row["p50_ms"] <= row["p99_ms"]
    # Two matrices of ANIME x TOP_N weights (int32 target + float32 weight) dominate.
    weights_mb = 2 * ANIME * TOP_N * 8 / 2**20
    assert weights_mb <= result["memory"]["model_files_mb"] <= weights_mb * 1.2

    training = result["training"]
    # 300 users span more anime than ANIME: the model keeps the most watched, no twins.
    assert training["anime_spanned"] > training["anime"] == ANIME and training["twins"] == 0
    assert 0 < training["recommendable"] <= ANIME
    assert 0 < training["weights"] <= 2 * ANIME * TOP_N
    assert set(training["steps_s"]) == {"items", "watched model", "liked model"}
    assert 0 < training["seconds"] and 0 < training["rss_before_mb"] < training["peak_rss_mb"]

    printed = capsys.readouterr().out
    assert printed.strip() == "\n".join(report.model_section(result)).strip()
    assert "### Serving" in printed and "### Training" in printed
    targets = report._model_targets(result)
    assert len(targets) == 3 and all(row[-1] in ("met", "**missed**") for row in targets)


def test_twins_double_the_least_popular_anime_for_the_odd_numbered_users():
    catalog = SimpleNamespace(ids=np.array([10, 20, 30, 40]),
                              popularity=np.array([0.4, 0.1, 0.3, 0.2]),
                              mean=np.array([8.0, 7.0, np.nan, 6.0]),
                              has_parent=np.array([False, True, False, False]))
    twins = model_bench.Twins.to_span(catalog, 6)
    assert twins.rows.tolist() == [1, 3] and twins.ids.tolist() == [41, 42]
    users = np.array([0, 1, 1, 1, 2])
    anime = np.array([20, 20, 40, 10, 40])
    assert twins.remap(catalog, users, anime).tolist() == [20, 41, 42, 10, 40]
    trained_on = twins.catalog(catalog)  # a twin is as recommendable as its original
    assert trained_on.ids.tolist() == [10, 20, 30, 40, 41, 42]
    assert trained_on.recommendable.tolist() == [True, False, False, True, False, True]
    assert model_bench.Twins.to_span(catalog, 3).ids.size == 0  # the catalog is enough
    assert model_bench.Twins.to_span(catalog, 100).ids.size == 4  # one twin per anime at most
