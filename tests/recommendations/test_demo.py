"""The load_demo command: summary, idempotence, hashes, bad files."""
import gzip
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recommendations.demo import DEMO_DIR
from recommendations.models import Anime
from tests.helpers import json_ok
from users.models import ListEntry, MalUser

pytestmark = pytest.mark.django_db

ANIME = """anime_id,name,genre,type,episodes,rating,members
1,First &amp; Show,"Action, Comedy",TV,12,8.5,100
2,Second,Drama,TV,24,7.0,50
3,Sequel,Action,TV,12,8.0,10
4,No Mean,Action,Movie,Unknown,,5
"""
SEQUELS = """mal_id,continues_into_mal_id
1,3
"""
LISTS = """username,anime_id,score,status
Demo_User_001,1,9,completed
demo_user_001,2,7,completed
demo_user_001,99,5,completed
demo_user_002,2,8,completed
demo_user_002,3,6,completed
demo_user_003,4,0,plan_to_watch
"""
SUMMARY = ("Loaded 4 anime (1 sequel links), 3 users, 6 list entries (1 of anime not in the "
           "catalog); 2 users hashed, 1 not.")


def _write(folder, anime=ANIME, sequels=SEQUELS, lists=LISTS):
    with gzip.open(folder / "anime.csv.gz", "wt", encoding="utf-8") as f:
        f.write(anime)
    (folder / "sequels.csv").write_text(sequels, encoding="utf-8")
    with gzip.open(folder / "demo_lists.csv.gz", "wt", encoding="utf-8") as f:
        f.write(lists)
    return folder


def _load(folder, *args):
    out = StringIO()
    call_command("load_demo", "--data-dir", str(folder), *args, verbosity=0, stdout=out)
    return out.getvalue().strip()


def _state():
    return (
        sorted(Anime.objects.values_list("id", "title", "mean", "genres", "parent_id")),
        sorted(MalUser.objects.values_list("id", "username", "hash")),
        sorted(ListEntry.objects.values_list("user__username", "anime_id", "score", "status",
                                             "updated_at")),
    )


def test_it_loads_the_files_and_prints_a_summary(tmp_path):
    assert _load(_write(tmp_path)) == SUMMARY
    first = Anime.objects.get(id=1)
    assert first.title == "First & Show" and first.genres == [1, 4] and first.mean == 8.5
    assert Anime.objects.get(id=3).parent_id == 1
    assert Anime.objects.get(id=4).mean is None and Anime.objects.get(id=4).episodes is None
    assert ListEntry.objects.filter(anime_id=99).exists()  # kept, though not in the catalog
    assert set(MalUser.objects.values_list("username", flat=True)) == {
        "demo_user_001", "demo_user_002", "demo_user_003"}


def test_it_hashes_every_user_with_a_watched_list(tmp_path):
    _load(_write(tmp_path))
    # demo_user_001: anime 1 (12 eps -> slot 1, Action -> 3, Comedy -> 6) scored 9 adds 10;
    # anime 2 (Drama -> slot 10, 24 eps -> 13) scored 7 adds 8; anime 99 is not in the
    # catalog. Lone slots 1, 3, 6, 10, 13 -> bits 1, 3, 6, 10, 13:
    # 0x4000... + 0x1000... + 0x0200... + 0x0020... + 0x0004... = 0x5224000000000000.
    assert MalUser.objects.get(username="demo_user_001").hash == 0x5224_0000_0000_0000
    assert MalUser.objects.get(username="demo_user_002").hash is not None
    assert MalUser.objects.get(username="demo_user_003").hash is None  # only plan to watch


def test_it_dates_entries_a_minute_apart_latest_first(tmp_path):
    _load(_write(tmp_path))
    times = list(ListEntry.objects.filter(user__username="demo_user_001")
                 .order_by("-updated_at").values_list("anime_id", "updated_at"))
    assert [anime for anime, _ in times] == [1, 2, 99]
    assert (times[0][1] - times[1][1]).total_seconds() == 60


def test_it_is_idempotent(tmp_path):
    folder = _write(tmp_path)
    _load(folder)
    before = _state()
    assert _load(folder) == SUMMARY
    assert _state() == before


def test_a_second_load_replaces_the_demo_users_lists(tmp_path):
    folder = _write(tmp_path)
    _load(folder)
    _write(tmp_path, lists=LISTS.replace("demo_user_002,3,6,completed\n", ""))
    _load(folder)
    assert list(ListEntry.objects.filter(user__username="demo_user_002")
                .values_list("anime_id", flat=True)) == [2]


def test_if_empty_leaves_a_database_with_users_alone(tmp_path):
    folder = _write(tmp_path)
    MalUser.objects.create(username="someone", hash=1)
    assert "not loaded again" in _load(folder, "--if-empty")
    assert not Anime.objects.exists()


def test_a_bad_file_is_a_command_error_and_writes_nothing(tmp_path):
    folder = _write(tmp_path, lists=LISTS + "demo_user_004,5,11,completed\n")
    with pytest.raises(CommandError, match="score"):
        _load(folder)
    assert not Anime.objects.exists() and not MalUser.objects.exists()


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError):
        _load(tmp_path)


def test_the_shipped_demo_serves_recommendations(client):
    # The real files: slow-ish (seconds), so loaded once here.
    summary = _load(DEMO_DIR)
    assert summary.startswith("Loaded 12294 anime (") and "549 users" in summary
    body = json_ok(client.get("/DEMO_User_001/recommendations"))
    assert body["requester"]["username"] == "demo_user_001"
    assert len(body["data"]) == 16 and body["pagination"]["next"] == 2
    assert all(item["users"] for item in body["data"])


def test_a_failure_midway_leaves_nothing_behind(tmp_path, monkeypatch):
    from recommendations import demo

    def hashing_fails(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "mal_users_rehash", hashing_fails)
    with pytest.raises(RuntimeError):
        _load(_write(tmp_path))
    assert not Anime.objects.exists() and not MalUser.objects.exists()
    assert not ListEntry.objects.exists()


def test_an_optional_watched_episodes_column_is_stored(tmp_path):
    lists = ("username,anime_id,score,status,watched_episodes\n"
             "demo_user_001,1,9,watching,3\ndemo_user_001,2,7,completed,\n")
    _load(_write(tmp_path, lists=lists))
    assert sorted(ListEntry.objects.values_list("anime_id", "episodes_watched")) == [(1, 3), (2, 0)]
    bad = lists.replace(",3\n", ",three\n")
    with pytest.raises(CommandError, match="line 2: field 'watched_episodes'"):
        _load(_write(tmp_path, lists=bad))
