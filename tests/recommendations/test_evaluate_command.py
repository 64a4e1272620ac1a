"""``manage.py evaluate`` end to end, on generated lists read from files and from the
database, and the ``reko`` method against what the API serves."""
import json
import time
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from recommendations.engine.models.base import Scored
from recommendations.evaluation.dataset import ListsByUser
from recommendations.evaluation.methods import METHODS, ContractRanking
from recommendations.evaluation.run import training_data
from recommendations.evaluation_sources import dataset_from_db
from tests.helpers import json_ok
from tests.recommendations import generated_lists

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def files(tmp_path):
    return generated_lists.write(tmp_path)


def _evaluate(*args) -> str:
    out = StringIO()
    call_command("evaluate", *args, verbosity=0, stdout=out)
    return out.getvalue().strip()


def _from_files(files, out, *args) -> str:
    return _evaluate("--lists", str(files / "demo_lists.csv.gz"),
                     "--catalog", str(files / "anime.csv.gz"),
                     "--sequels", str(files / "sequels.csv"), "--out", str(out), *args)


def _results(out) -> dict:
    return json.loads((out / "evaluation.json").read_text())


def test_it_writes_the_table_the_chart_and_the_json(files, tmp_path):
    summary = _from_files(files, tmp_path / "out", "--seed", "2")
    assert summary.startswith(f"Evaluated {len(METHODS)} methods on 45 test users (seed 2)")
    results = _results(tmp_path / "out")
    assert [m["name"] for m in results["methods"]] == list(METHODS)
    assert results["test_users"] == results["eligible_users"] == 45
    for method in results["methods"]:
        for name, metric in method["metrics"].items():
            assert 0 <= metric["low"] <= metric["value"] <= metric["high"] <= 1, (method, name)
    ndcg = {m["name"]: m["metrics"]["ndcg@16"]["value"] for m in results["methods"]}
    # The users' groups are there to find: the methods that learn tastes beat chance
    # (every anime is about as popular as any other, so "popular" need not).
    for name in ("reko", "item-knn", "ease"):
        assert ndcg[name] > ndcg["random"] + 0.1, ndcg
    table = (tmp_path / "out" / "evaluation.md").read_text()
    assert results["command"] in table and "| method | NDCG@16 |" in table
    assert all(f"| {name} | " in table for name in METHODS)
    assert (tmp_path / "out" / "evaluation.png").read_bytes().startswith(PNG_SIGNATURE)


def test_the_same_seed_gives_the_same_results(files, tmp_path):
    _from_files(files, tmp_path / "a", "--seed", "5")
    _from_files(files, tmp_path / "b", "--seed", "5")
    _from_files(files, tmp_path / "c", "--seed", "6")
    a, b, c = (_results(tmp_path / d) for d in "abc")
    assert a["methods"] == b["methods"]
    assert a["methods"] != c["methods"]


def test_it_samples_test_users_and_methods(files, tmp_path):
    summary = _from_files(files, tmp_path, "--users", "10", "--methods", "popular,ease")
    results = _results(tmp_path)
    assert results["test_users"] == 10 and "--users 10" in results["command"]
    assert [m["name"] for m in results["methods"]] == ["popular", "ease"]
    assert summary.startswith("Evaluated 2 methods on 10 test users")


@pytest.mark.parametrize("args, message", [
    (["--lists", "x.csv"], "--lists needs --catalog"),
    (["--catalog", "x.csv"], "go with --lists"),
    (["--methods", "ease,best"], "Unknown method"),
])
def test_bad_arguments_are_command_errors(args, message, tmp_path):
    with pytest.raises(CommandError, match=message):
        _evaluate(*args, "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_bad_file_is_a_command_error(files, tmp_path):
    (files / "sequels.csv").write_text("mal_id,continues_into_mal_id\n1,\n")
    with pytest.raises(CommandError, match="Nothing evaluated: line 2"):
        _from_files(files, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.django_db
def test_an_empty_database_has_no_test_user(tmp_path):
    with pytest.raises(CommandError, match="No test user"):
        _evaluate("--out", str(tmp_path))


@pytest.mark.django_db
def test_the_database_gives_what_the_same_files_give(files, tmp_path):
    call_command("load_demo", "--data-dir", str(files), verbosity=0, stdout=StringIO())
    summary = _evaluate("--out", str(tmp_path / "db"), "--seed", "3")
    assert "on 45 test users" in summary
    _from_files(files, tmp_path / "files", "--seed", "3")
    from_db, from_files = _results(tmp_path / "db"), _results(tmp_path / "files")
    # Same lists, same split, same answers; only random draws by user id, which differ.
    assert [m for m in from_db["methods"] if m["name"] != "random"] == \
        [m for m in from_files["methods"] if m["name"] != "random"]


@pytest.mark.django_db
def test_reko_recommends_what_the_api_serves(files, client):
    """With nothing hidden, the method's top 32 is pages 1 and 2 of batch 1."""
    call_command("load_demo", "--data-dir", str(files), verbosity=0, stdout=StringIO())
    data = dataset_from_db()
    training = training_data(data, data.entries, seed=0)
    reko = ContractRanking(training.population, now=time.time()).fit(
        training.interactions, training.catalog)
    lists = ListsByUser.of(data.entries, data.user_ids)
    for row in range(0, len(data.user_ids), 5):
        served = []
        for page in (1, 2):
            body = json_ok(client.get(f"/{data.usernames[row]}/recommendations?page={page}"))
            served += [item["id"] for item in body["data"]]
        mine = reko.recommend(lists.user_list(row, training.population.hashes[row]), 32)
        assert len(served) > 16  # the second page is not empty
        assert mine.anime_ids.tolist() == served, data.usernames[row]
    assert np.all(training.population.hashes != 0)


class _Spy:
    """A method that remembers what it was trained on when it is asked for a user."""

    name = "spy"
    seen: dict = {}

    def fit(self, interactions, catalog):
        self.pairs = set(zip(interactions.user_ids.tolist(), interactions.anime_ids.tolist()))
        return self

    def recommend(self, user, k):
        _Spy.seen[user.user_id] = (self.pairs, set(user.listed_anime_ids.tolist()))
        return Scored(anime_ids=np.zeros(0, np.int64), scores=np.zeros(0))


@pytest.mark.parametrize("folds", [1, 3])
def test_a_user_is_served_by_a_method_that_never_saw_their_hidden_entries(files, folds,
                                                                          monkeypatch):
    from recommendations.evaluation.run import evaluate
    from recommendations.evaluation.split import split
    from recommendations.evaluation_sources import dataset_from_files

    data = dataset_from_files(lists=files / "demo_lists.csv.gz",
                              catalog=files / "anime.csv.gz", sequels=files / "sequels.csv")
    _Spy.seen = {}
    monkeypatch.setitem(METHODS, "spy", lambda training: _Spy())
    evaluation = evaluate(data, seed=9, methods=["spy"], folds=folds, progress=False)
    assert evaluation.folds == folds
    the_split = split(data, seed=9)
    hidden = {}
    for user, anime in zip(the_split.entries.user_ids[the_split.hidden].tolist(),
                           the_split.entries.anime_ids[the_split.hidden].tolist()):
        hidden.setdefault(user, set()).add((user, anime))
    assert set(_Spy.seen) == set(hidden) == set(the_split.test_user_ids.tolist())
    for user, (trained_on, listed) in _Spy.seen.items():
        assert not hidden[user] & trained_on  # nor on the list it was handed
        assert not {anime for _, anime in hidden[user]} & listed
        # With folds, the test users of the other folds keep their whole lists.
        others = [other for other in hidden if other != user]
        kept = [other for other in others if hidden[other] <= trained_on]
        assert not any(hidden[other] & trained_on for other in set(others) - set(kept))
        assert len(kept) == len(hidden) - len(hidden) // folds  # 45 users: equal folds
