"""Management commands of the MAL integration and the file imports (issue 3)."""
import datetime as dt
import gzip
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from recommendations.models import Anime
from tests.factories import AnimeFactory, ListEntryFactory, MalUserFactory
from tests.helpers import stored_rows
from tests.mal.conftest import make_list
from tests.mal.fake_mal import anime_json
from users.models import ListEntry, MalUser
from reko.exceptions import HashFailed
from users import services
from users.sync import mal_user_sync

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), verbosity=1)  # progress bars too
    return out.getvalue()


def snapshot() -> tuple:
    return (list(MalUser.objects.order_by("id").values()),
            list(ListEntry.objects.order_by("id").values()),
            list(Anime.objects.order_by("id").values()))


def age(name: str, days: float) -> None:
    when = timezone.now() - dt.timedelta(days=days)
    MalUser.objects.filter(username=name).update(list_synced_at=when, full_synced_at=when)


@pytest.fixture
def some_rows():
    """What every command could touch: a stale MAL user with an entry of an airing anime
    whose relations were never read, and one of an anime the catalog lacks."""
    old = timezone.now() - dt.timedelta(days=40)
    alice = MalUserFactory(username="alice", list_synced_at=old, full_synced_at=old)
    airing = AnimeFactory(id=1, airing_status="currently_airing")
    ListEntryFactory(user=alice, anime=airing)
    ListEntry.objects.create(user=alice, anime_id=99, status="completed", score=7,
                             updated_at=old)


# --- sync_users / update_old_users ------------------------------------------------------

def test_sync_users_fetches_new_and_refreshes_known_users(fake_mal):
    fake_mal.add_user("alice", make_list(3))
    fake_mal.add_user("bob", make_list(4, first_id=10))
    mal_user_sync(username="alice")

    out = run("sync_users", "alice", "Bob")

    assert "1 created" in out and "1 incremental" in out and "0 failed" in out
    assert MalUser.objects.get(username="bob").entries.count() == 4
    again = run("sync_users", "alice", "bob")  # twice is safe
    assert "2 incremental" in again and "0 failed" in again


def test_sync_users_fails_with_a_summary_when_a_user_fails(fake_mal):
    fake_mal.add_user("alice", make_list(3))

    with pytest.raises(CommandError, match="ghost: UserNotFound"):
        run("sync_users", "alice", "ghost")
    assert MalUser.objects.filter(username="alice").exists()


def test_update_old_users_refreshes_only_stale_users_stalest_first(fake_mal):
    for i, name in enumerate(["old", "older", "fresh"]):
        fake_mal.add_user(name, make_list(2, first_id=1 + 10 * i))
        mal_user_sync(username=name)
    age("old", 5)
    age("older", 9)
    fake_mal.log.clear()

    out = run("update_old_users", "--limit", "1")

    assert "1 incremental" in out
    assert [p.split("/")[3] for p in fake_mal.requests("/v2/users/")] == ["older"]
    out = run("update_old_users")
    assert "1 incremental" in out
    assert "none" in run("update_old_users")  # nothing due any more


def test_update_old_users_skips_users_imported_from_a_file(fake_mal, tmp_path):
    path = tmp_path / "export.xml"
    path.write_text(export_xml("private_one", [(1, "Completed", 8)]))
    Anime.objects.create(id=1, title="One", genres=[1], mean=8)
    run("import_mal_export", str(path))

    assert "none" in run("update_old_users")
    assert fake_mal.requests() == []


def test_update_old_users_stops_when_mal_is_down(fake_mal):
    fake_mal.add_user("old", make_list(2))
    mal_user_sync(username="old")
    age("old", 5)
    fake_mal.fail("/v2/users/", 503)
    before = snapshot()

    with pytest.raises(CommandError, match="stopped early"):
        run("update_old_users")
    assert snapshot() == before


# --- anime commands ---------------------------------------------------------------------

def test_request_missing_anime_fills_the_catalog_links_parents_and_rehashes(fake_mal, tmp_path):
    Anime.objects.create(id=1, title="One", genres=[1], mean=8)
    fake_mal.anime[1] = anime_json(1)
    fake_mal.anime[2] = anime_json(2, genres=(8, 22, 10), related=[(1, "prequel")])
    path = tmp_path / "export.xml"
    path.write_text(export_xml("eve", [(1, "Completed", 8), (2, "Completed", 9),
                                       (3, "Watching", 5)]))
    run("import_mal_export", str(path))
    eve = MalUser.objects.get(username="eve")
    old_hash = eve.hash

    out = run("request_missing_anime")

    assert "3 requested, 2 stored (1 new), 1 unknown to MyAnimeList; 1 users rehashed" in out
    two = Anime.objects.get(id=2)
    assert two.parent_id == 1 and two.relations_checked_at is not None
    assert Anime.objects.get(id=1).relations_checked_at is not None
    eve.refresh_from_db()
    # Before, only anime 1 was in the catalog, with Action (slot 3) alone: bit 3.
    # Now anime 1 (scored 8: +9) has pg_13 (slot 0), 12 eps (1), 2015 (2), Action (3),
    # Comedy (6); anime 2 (scored 9: +10) slots 0, 1, 2, Fantasy (4), Drama (10),
    # Romance (11); anime 3 is unknown to MAL. Counters 19, 19, 19, 9, 10, 0, 9, 0, 0, 0,
    # 10, 10, 0...: bits 2, 4, 6 and 11.
    assert old_hash == 1 << 60
    assert eve.hash == 1 << 61 | 1 << 59 | 1 << 57 | 1 << 52
    fake_mal.log.clear()
    assert "0 requested" in run("request_missing_anime")  # twice is safe, and cheap
    assert fake_mal.requests() == []


def test_update_airing_anime_refreshes_airing_first(fake_mal):
    long_ago = timezone.now() - dt.timedelta(days=30)
    Anime.objects.create(id=1, title="Old finished", airing_status="finished_airing")
    Anime.objects.create(id=2, title="Airing", airing_status="currently_airing")
    Anime.objects.create(id=3, title="Newer finished", airing_status="finished_airing")
    Anime.objects.filter(id=1).update(updated_at=long_ago)
    Anime.objects.filter(id=3).update(updated_at=long_ago + dt.timedelta(days=1))
    Anime.objects.filter(id=2).update(updated_at=long_ago + dt.timedelta(days=2))
    for anime_id in (1, 2, 3):
        fake_mal.anime[anime_id] = anime_json(anime_id, title=f"Fresh {anime_id}", mean=6.5)

    out = run("update_airing_anime", "--limit", "2")

    assert "2 stored" in out
    assert [p.split("?")[0] for p in fake_mal.requests()] == ["/v2/anime/2", "/v2/anime/1"]
    assert Anime.objects.get(id=2).title == "Fresh 2" and Anime.objects.get(id=2).mean == 6.5
    assert Anime.objects.get(id=3).title == "Newer finished"
    fake_mal.log.clear()
    run("update_airing_anime", "--limit", "2")
    # 3 is now the least recently refreshed; 1 and 2 were refreshed a moment apart.
    assert [p.split("?")[0] for p in fake_mal.requests()][0] == "/v2/anime/3"
    assert Anime.objects.get(id=3).title == "Fresh 3"


def test_anime_commands_fail_cleanly_when_mal_is_down(fake_mal):
    Anime.objects.create(id=1, title="One", airing_status="currently_airing")
    Anime.objects.update(updated_at=timezone.now() - dt.timedelta(days=2))
    fake_mal.fail("/v2/anime/", 500)
    before = snapshot()

    with pytest.raises(CommandError, match="MyAnimeList failed at anime 1"):
        run("update_airing_anime")
    assert snapshot() == before


# --- import_mal_export ------------------------------------------------------------------

def export_xml(name: str, rows, *, extra: str = "") -> str:
    anime = "".join(
        f"<anime><series_animedb_id>{i}</series_animedb_id>"
        f"<series_title><![CDATA[Show {i}]]></series_title><series_episodes>12</series_episodes>"
        f"<my_watched_episodes>{12 if status == 'Completed' else 3}</my_watched_episodes>"
        f"<my_start_date>2020-01-00</my_start_date><my_finish_date>0000-00-00</my_finish_date>"
        f"<my_score>{score}</my_score><my_status>{status}</my_status></anime>"
        for i, status, score in rows)
    return (f'<?xml version="1.0" encoding="UTF-8" ?><myanimelist><myinfo><user_id>1</user_id>'
            f"<user_name>{name}</user_name><user_export_type>1</user_export_type></myinfo>"
            f"{anime}{extra}</myanimelist>")


def test_import_mal_export_stores_a_gzipped_list(tmp_path, fake_mal):
    for i in (1, 2):
        Anime.objects.create(id=i, title=f"Show {i}", genres=[i * 4], mean=7)
    path = tmp_path / "animelist_1700000000_-_1.xml.gz"
    path.write_bytes(gzip.compress(export_xml("Private_Fan", [
        (1, "Completed", 9), (2, "On-Hold", 0), (3, "Plan to Watch", 0)]).encode()))

    out = run("import_mal_export", str(path))

    user = MalUser.objects.get(username="private_fan")
    assert "Imported private_fan: 3 list entries" in out
    # Only anime 1 counts (completed, scored 9: +10 on Comedy, slot 6): bit 6.
    assert user.hash == 1 << 57 and user.list_synced_at is None
    assert dict(user.entries.values_list("anime_id", "status")) == {
        1: "completed", 2: "on_hold", 3: "plan_to_watch"}
    assert user.entries.get(anime_id=1).updated_at == dt.datetime(2020, 1, 1,
                                                                  tzinfo=dt.timezone.utc)
    run("import_mal_export", str(path))  # twice is safe
    assert MalUser.objects.count() == 1 and ListEntry.objects.count() == 3


def test_sync_users_keeps_an_imported_list_that_is_private_on_mal(tmp_path, fake_mal):
    Anime.objects.create(id=1, title="Show 1", genres=[1], mean=7)
    path = tmp_path / "export.xml"
    path.write_text(export_xml("private_fan", [(1, "Completed", 9)]))
    run("import_mal_export", str(path))
    fake_mal.private.add("private_fan")
    before = snapshot()

    with pytest.raises(CommandError, match="private_fan: PrivateUserList"):
        run("sync_users", "private_fan")
    assert snapshot() == before


def test_update_old_users_fails_on_a_user_that_could_not_be_refreshed(fake_mal, monkeypatch):
    fake_mal.add_user("old", make_list(2))
    fake_mal.add_user("gone", make_list(2, first_id=10))
    for name in ("old", "gone"):
        mal_user_sync(username=name)
        age(name, 5)
    del fake_mal.lists["gone"]  # MAL says 404: a normal outcome, not a failure

    assert "1 failed" in run("update_old_users")
    age("old", 5)
    def broken(user):
        raise HashFailed()

    monkeypatch.setattr(services, "user_hash", broken)
    with pytest.raises(CommandError, match="old: HashFailed"):
        run("update_old_users")


def test_an_imported_user_is_served_without_calling_mal(tmp_path, fake_mal, api):
    Anime.objects.create(id=1, title="Show 1", genres=[1], mean=7)
    path = tmp_path / "export.xml"
    path.write_text(export_xml("private_fan", [(1, "Completed", 9)]))
    run("import_mal_export", str(path))
    fake_mal.private.add("private_fan")

    assert api.get("/private_fan/similar").status_code == 200
    assert fake_mal.requests() == []


@pytest.mark.parametrize("rows,extra,message", [
    ([(1, "Completed", 9), (2, "Binged", 3)], "", "anime record 2 (anime 2): field 'my_status'"),
    ([(1, "Completed", 11)], "", "anime record 1 (anime 1): field 'my_score'"),
    ([(1, "Completed", 9), (1, "Dropped", 2)], "", "anime record 2: series_animedb_id 1"),
    ([(1, "Completed", "x")], "", "field 'my_score' must be a whole number"),
    ([(1, "Completed", "²")], "", "field 'my_score' must be a whole number"),
    ([(1, "Completed", 9)], "<anime><my_status>Completed</my_status></anime>",
     "anime record 2: field 'series_animedb_id'"),
])
def test_a_malformed_export_names_the_record_and_writes_nothing(tmp_path, rows, extra, message):
    MalUser.objects.create(username="fan")
    Anime.objects.create(id=1, title="Show 1", genres=[1], mean=7)
    path = tmp_path / "export.xml"
    path.write_text(export_xml("fan", rows, extra=extra))
    before = snapshot()

    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run("import_mal_export", str(path))
    assert snapshot() == before


@pytest.mark.parametrize("content,message", [
    ("<myanimelist><myinfo><user_name>x</user_name></myinfo></myanimelist>", "user_name"),
    ("<myanimelist><anime>", "not well-formed"),
    ('<!DOCTYPE lol [<!ENTITY a "aaaa">]><myanimelist/>', "document type"),
    ("<other/>", "root element"),
])
def test_an_unreadable_export_writes_nothing(tmp_path, content, message, some_rows):
    path = tmp_path / "export.xml"
    path.write_text(content)
    before = stored_rows()

    with pytest.raises(CommandError, match=message):
        run("import_mal_export", str(path))
    assert stored_rows() == before


def test_an_export_with_nothing_watched_is_refused(tmp_path, some_rows):
    path = tmp_path / "export.xml"
    path.write_text(export_xml("lazy", [(1, "Plan to Watch", 0)]))
    before = stored_rows()

    with pytest.raises(CommandError, match="no watched anime"):
        run("import_mal_export", str(path))
    assert stored_rows() == before


# --- import_catalog ---------------------------------------------------------------------

CSV = ("anime_id,name,genre,type,episodes,rating,members\n"
       "1,Cowboy Bebop,\"Action, Sci-Fi\",TV,26,8.78,100\n"
       "5,Bebop Movie,\"Action\",Movie,1,8.4,50\n")


def test_import_catalog_reads_the_demo_csv(tmp_path):
    path = tmp_path / "anime.csv"
    path.write_text(CSV)

    assert "Imported 2 anime" in run("import_catalog", str(path))
    assert Anime.objects.get(id=1).genres == [1, 24]
    run("import_catalog", str(path))  # twice is safe
    assert Anime.objects.count() == 2


@pytest.mark.parametrize("shape", ["object", "list", "data"])
def test_import_catalog_reads_mal_api_json(tmp_path, shape):
    one = anime_json(1, title="Bebop", start_date="1998-04", related=[])
    two = anime_json(5, title="Bebop Movie", related=[(1, "parent_story")])
    docs = {"object": two, "list": [one, two],
            "data": {"data": [{"node": one}, {"node": two}], "paging": {}}}
    path = tmp_path / "anime.json.gz"
    path.write_bytes(gzip.compress(json.dumps(docs[shape]).encode()))

    run("import_catalog", str(path))

    movie = Anime.objects.get(id=5)
    assert (movie.title, movie.parent_id, movie.rating, movie.genres) == (
        "Bebop Movie", 1, "pg_13", [1, 4])
    assert movie.relations_checked_at is not None
    if shape != "object":
        assert Anime.objects.get(id=1).start_date == dt.date(1998, 4, 1)


@pytest.mark.parametrize("name,content,message", [
    ("bad.csv", CSV + "7,,Action,TV,1,7.0,1\n", "line 4: field 'name' is required"),
    ("bad.csv", CSV + "7,Seven,Action,TV,1,eleven,1\n", "line 4: field 'rating'"),
    ("bad.json", json.dumps([anime_json(1), {**anime_json(2), "rating": "nc17"}]),
     r"record 2 \(id 2\): field 'rating'"),
    ("bad.json", json.dumps({"data": [{"node": anime_json(1)}, {"node": {"title": "x"}}]}),
     "record 2: field 'id'"),
    ("bad.json", json.dumps([anime_json(1), {**anime_json(3), "start_date": "spring"}]),
     r"record 2 \(id 3\): field 'start_date'"),
    ("bad.json", "{not json", "not valid JSON"),
    ("bad.txt", "hello", "neither .csv nor .json"),
])
def test_a_malformed_catalog_names_the_record_and_writes_nothing(tmp_path, name, content,
                                                                 message):
    Anime.objects.create(id=1, title="Kept as it was")
    path = tmp_path / name
    path.write_text(content)
    before = snapshot()

    with pytest.raises(CommandError, match=message):
        run("import_catalog", str(path))
    assert snapshot() == before


def test_import_catalog_reports_a_missing_file(tmp_path, some_rows):
    before = stored_rows()
    with pytest.raises(CommandError, match="Nothing imported"):
        run("import_catalog", str(tmp_path / "nope.csv"))
    assert stored_rows() == before


def test_sync_users_fetches_an_imported_user_in_full_from_mal(tmp_path, fake_mal):
    Anime.objects.create(id=1, title="Show 1", genres=[1], mean=7)
    path = tmp_path / "export.xml"
    path.write_text(export_xml("fan", [(1, "Completed", 9), (500, "Completed", 7)]))
    run("import_mal_export", str(path))
    fake_mal.add_user("fan", make_list(3, first_id=1))

    assert "1 full" in run("sync_users", "fan")

    user = MalUser.objects.get(username="fan")
    assert sorted(user.entries.values_list("anime_id", flat=True)) == [1, 2, 3]
    assert user.list_synced_at is not None and user.full_synced_at is not None


def test_sync_users_reports_an_invalid_name(fake_mal, some_rows):
    before = stored_rows()
    with pytest.raises(CommandError, match="InvalidUsername"):
        run("sync_users", "no spaces allowed")
    assert stored_rows() == before and fake_mal.requests() == []


@pytest.mark.parametrize("command", [
    ["sync_users", "alice"], ["update_old_users"], ["update_airing_anime"],
    ["request_missing_anime"],
])
def test_mal_commands_say_when_mal_is_not_configured(settings, command, some_rows):
    settings.MAL_CLIENT_ID = ""
    before = stored_rows()

    with pytest.raises(CommandError, match="MAL_CLIENT_ID"):
        run(*command)
    assert stored_rows() == before


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8"])
def test_a_document_type_is_refused_whatever_the_files_encoding(tmp_path, encoding, some_rows):
    """A check of the raw bytes for "<!DOCTYPE" missed it in UTF-16; the entity would have
    been expanded into the stored username."""
    declared = "UTF-16" if encoding.startswith("utf-16") else "UTF-8"
    xml = (f'<?xml version="1.0" encoding="{declared}"?>'
           '<!DOCTYPE myanimelist [<!ENTITY who "entity_fan">]>'
           + export_xml("&who;", [(1, "Completed", 9)]).split("?>", 1)[1])
    bom = "\ufeff" if encoding in ("utf-16-le", "utf-16-be") else ""
    path = tmp_path / "export.xml"
    path.write_bytes((bom + xml).encode(encoding))
    before = stored_rows()

    with pytest.raises(CommandError, match="document type declarations are not allowed"):
        run("import_mal_export", str(path))
    assert stored_rows() == before
    assert not MalUser.objects.filter(username="entity_fan").exists()


def test_an_export_written_in_utf16_is_read(tmp_path):
    Anime.objects.create(id=1, title="Show 1", genres=[1], mean=7)
    xml = export_xml("wide_fan", [(1, "Completed", 9)]).replace('encoding="UTF-8"',
                                                                   'encoding="UTF-16"')
    path = tmp_path / "export.xml"
    path.write_bytes(xml.encode("utf-16"))

    assert "Imported wide_fan: 1 list entries" in run("import_mal_export", str(path))
    assert MalUser.objects.get(username="wide_fan").entries.count() == 1
