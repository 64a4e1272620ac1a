"""Edits in the admin cannot break the site: names and genres are validated, what an edit
invalidates is recomputed, derived data is read-only, and a bad row that got in anyway
(written around the admin) is left out of the index instead of failing every route."""
import logging

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from recommendations.models import Anime, IndexChange, SimilaritySnapshot
from tests.factories import AnimeFactory, ListEntryFactory, MalUserFactory
from tests.helpers import REQUESTER_HASH, json_ok, user_at
from users.models import ListEntry, MalUser
from users.services import user_hash

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user_form(username, **changes):
    return {"username": username, "hash": str(REQUESTER_HASH),
            "list_synced_at_0": "", "list_synced_at_1": "",
            "full_synced_at_0": "", "full_synced_at_1": "",
            "entries-TOTAL_FORMS": "0", "entries-INITIAL_FORMS": "0",
            "entries-MIN_NUM_FORMS": "0", "entries-MAX_NUM_FORMS": "1000", **changes}


@pytest.mark.parametrize("bad", ["Amy", "ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ", "a", "amy amy", "amy.x"])
def test_a_username_the_contract_cannot_name_is_refused_in_the_admin(admin_client, bad):
    amy = MalUserFactory(username="amy")
    url = reverse("admin:users_maluser_change", args=[amy.pk])
    response = admin_client.post(url, _user_form(bad))
    assert response.status_code == 200  # the form again, with the error
    assert "lower-case letters" in response.content.decode()
    assert list(MalUser.objects.values_list("username", flat=True)) == ["amy"]


def test_the_model_refuses_a_name_that_is_not_a_stored_username():
    with pytest.raises(ValidationError):
        MalUser(username="Amy", hash=1).full_clean()
    MalUser(username="amy-2_x", hash=1).full_clean()


def _anime_form(anime, genres):
    return {"id": anime.id, "title": anime.title, "media_type": "tv", "episodes": "12",
            "mean": "7.5", "rating": "pg_13", "picture": "", "airing_status": "",
            "genres": genres, "start_date": "2015-04-01", "parent": "",
            "relations_checked_at_0": "", "relations_checked_at_1": ""}


@pytest.mark.parametrize("genres, message", [
    ('["1"]', "not a known MyAnimeList genre id"),
    ("[999]", "not a known MyAnimeList genre id"),
    ("[true]", "not a known MyAnimeList genre id"),
    ("[[1]]", "not a known MyAnimeList genre id"),
    ('{"1": 1}', "a list of MyAnimeList genre ids"),
    ("7", "a list of MyAnimeList genre ids"),
    ("[1, 1]", "appears twice"),
])
def test_genres_that_are_not_known_ids_are_refused_in_the_admin(admin_client, genres, message):
    show = AnimeFactory(id=5, genres=[1, 4])
    url = reverse("admin:recommendations_anime_change", args=[show.pk])
    response = admin_client.post(url, _anime_form(show, genres))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Anime.objects.get(pk=5).genres == [1, 4]


def test_known_genres_retired_ones_included_are_accepted(admin_client):
    show = AnimeFactory(id=5, genres=[1])
    url = reverse("admin:recommendations_anime_change", args=[show.pk])
    assert admin_client.post(url, _anime_form(show, "[4, 16, 62]")).status_code == 302
    assert Anime.objects.get(pk=5).genres == [4, 16, 62]


def _entry_form(entry, **changes):
    return {"user": entry.user_id, "anime": entry.anime_id, "status": entry.status,
            "score": str(entry.score), "episodes_watched": str(entry.episodes_watched),
            "updated_at_0": "2024-01-01", "updated_at_1": "00:00:00", **changes}


def _listed_user():
    amy = MalUserFactory(username="amy", hash=None)
    entries = [ListEntryFactory(user=amy, anime=AnimeFactory(id=i, genres=[g]), score=s)
               for i, g, s in ((1, 1, 9), (2, 22, 3), (3, 24, 7))]
    amy.hash = user_hash(amy)
    amy.save()
    return amy, entries


def test_an_entry_saved_in_the_admin_recomputes_the_users_hash(admin_client,
                                                                django_capture_on_commit_callbacks):
    amy, entries = _listed_user()
    before = amy.hash
    url = reverse("admin:users_listentry_change", args=[entries[0].pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, _entry_form(entries[0], status="dropped"))
    assert response.status_code == 302
    amy.refresh_from_db()
    assert amy.hash != before
    assert amy.hash == user_hash(amy)  # the single-user path agrees with the stored hash
    assert IndexChange.objects.filter(kind="user", object_id=amy.id).exists()


def test_an_entry_deleted_in_the_admin_recomputes_the_users_hash(admin_client, client):
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    amy, entries = _listed_user()
    before = amy.hash
    delete = reverse("admin:users_listentry_delete", args=[entries[1].pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    amy.refresh_from_db()
    assert amy.hash not in (None, before) and amy.hash == user_hash(amy)
    # The last entries go: nothing counts any more, so amy has no hash and leaves the index.
    changelist = reverse("admin:users_listentry_changelist")
    response = admin_client.post(changelist, {
        "action": "delete_selected", "post": "yes",
        "_selected_action": [str(e.pk) for e in entries if e.pk != entries[1].pk]})
    assert response.status_code == 302
    assert not ListEntry.objects.filter(user=amy).exists()
    amy.refresh_from_db()
    assert amy.hash is None
    names = [u["username"] for u in json_ok(client.get("/req_user/similar"))["data"]]
    assert "amy" not in names


def test_an_inline_entry_edit_on_the_user_page_recomputes_the_hash(admin_client):
    amy, entries = _listed_user()
    before = amy.hash
    form = _user_form("amy", hash=str(before), **{
        "entries-TOTAL_FORMS": "3", "entries-INITIAL_FORMS": "3"})
    for n, entry in enumerate(ListEntry.objects.filter(user=amy).order_by("-updated_at")):
        form.update({f"entries-{n}-id": str(entry.pk), f"entries-{n}-user": str(amy.pk),
                     f"entries-{n}-anime": str(entry.anime_id), f"entries-{n}-status":
                     "completed", f"entries-{n}-score": str(entry.score),
                     f"entries-{n}-episodes_watched": str(entry.episodes_watched),
                     f"entries-{n}-updated_at_0": entry.updated_at.strftime("%Y-%m-%d"),
                     f"entries-{n}-updated_at_1": entry.updated_at.strftime("%H:%M:%S")})
        if entry.anime_id == 2:
            form[f"entries-{n}-status"] = "dropped"
    response = admin_client.post(reverse("admin:users_maluser_change", args=[amy.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    amy.refresh_from_db()
    assert ListEntry.objects.get(user=amy, anime_id=2).status == "dropped"
    assert amy.hash != before and amy.hash == user_hash(amy)


def test_the_change_feed_and_snapshots_cannot_be_edited_or_deleted(admin_client, client):
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    user_at(1, "amy")
    json_ok(client.get("/req_user/similar"))  # stores a snapshot
    snapshot = SimilaritySnapshot.objects.get()
    change = IndexChange.objects.create(kind="user", object_id=1)
    stored = (list(SimilaritySnapshot.objects.values()), list(IndexChange.objects.values()))
    for name, obj in (("recommendations_similaritysnapshot", snapshot),
                      ("recommendations_indexchange", change)):
        page = admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert page.status_code == 200 and "Save" not in page.content.decode()
        edit = admin_client.post(reverse(f"admin:{name}_change", args=[obj.pk]),
                                 {"kind": "anime", "object_id": "2"})
        delete = admin_client.post(reverse(f"admin:{name}_delete", args=[obj.pk]),
                                   {"post": "yes"})
        assert (edit.status_code, delete.status_code) == (403, 403)
    assert (list(SimilaritySnapshot.objects.values()), list(IndexChange.objects.values())) \
        == stored


@pytest.mark.parametrize("bad_name", ["Upper_Case", "aÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ", "x"])
def test_a_bad_row_written_around_the_admin_is_left_out_of_the_index(
        client, settings, caplog, bad_name):
    settings.INDEX_POLL_SECONDS = 0
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    user_at(1, "amy")
    bad = user_at(2, "placeholder")
    MalUser.objects.filter(pk=bad.pk).update(username=bad_name)  # no validation on update
    with caplog.at_level(logging.WARNING, logger="recommendations.selectors"):
        names = [u["username"] for u in json_ok(client.get("/req_user/similar"))["data"]]
    assert names == ["amy"]
    assert f"user {bad.pk} left out" in caplog.text
    # A refresh that meets the bad row (the feed names it) skips it the same way.
    late = user_at(3, "late_comer")
    IndexChange.objects.bulk_create([IndexChange(kind="user", object_id=i)
                                     for i in (bad.pk, late.pk)])
    names = [u["username"] for u in json_ok(client.get("/req_user/similar?page=1"))["data"]]
    assert "late_comer" in json_ok(client.get("/amy/compare/late_comer"))["data"]["username"]
    assert bad_name not in names


@pytest.mark.parametrize("bad_genres", [["1"], [[1]], {"a": 1}, 7, [True, 4]])
def test_bad_genres_written_around_the_admin_do_not_break_recommendations(client, bad_genres):
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    amy = user_at(1, "amy")
    for anime_id in (5, 6):
        ListEntryFactory(user=amy, anime=AnimeFactory(id=anime_id, genres=[4]), score=9)
    Anime.objects.filter(pk=5).update(genres=bad_genres)
    data = json_ok(client.get("/req_user/recommendations"))["data"]
    genres = {item["id"]: item["details"]["genres"] for item in data}
    assert genres[6] == ["Comedy"]
    assert genres[5] == (["Comedy"] if bad_genres == [True, 4] else [])
