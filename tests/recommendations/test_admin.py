"""The admin answers a superuser on every page of every registered model."""
import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from recommendations.models import Anime, IndexChange, SimilaritySnapshot
from tests.factories import AnimeFactory, ListEntryFactory, MalUserFactory
from tests.helpers import REQUESTER_HASH, hash_at, json_ok, user_at
from users.models import ListEntry, MalUser

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # The admin_client superuser is created with the hasher set here: keep it cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def rows(client):
    parent = AnimeFactory(id=1, title="Parent Show", airing_status="finished_airing")
    AnimeFactory(id=2, title="Sequel Show", parent=parent, rating="r",
                 airing_status="currently_airing")
    user = MalUserFactory(username="req_user", hash=0xFEDC_BA98_7654_3210)
    amy = MalUserFactory(username="amy", hash=0xFEDC_BA98_7654_3211)
    ListEntryFactory(user=user, anime=parent)
    ListEntryFactory(user=amy, anime=parent, status="watching", episodes_watched=3)
    ListEntryFactory(user=amy, anime=Anime.objects.get(id=2))
    ListEntry.objects.create(user=amy, anime_id=424243, status="completed", score=5,
                             updated_at=timezone.now())
    # An entry of an anime the catalog does not know must not break the pages.
    ListEntry.objects.create(user=user, anime_id=424242, status="completed", score=3,
                             updated_at=timezone.now())
    json_ok(client.get("/req_user/similar"))  # stores the snapshot
    json_ok(client.get("/amy/similar"))
    IndexChange.objects.create(kind=IndexChange.Kind.USER, object_id=user.id)
    IndexChange.objects.create(kind=IndexChange.Kind.ANIME, object_id=2)
    Group.objects.create(name="editors")
    return user


REGISTERED = [Anime, SimilaritySnapshot, IndexChange, MalUser, ListEntry, User, Group]


def test_these_are_all_the_registered_models():
    assert set(admin.site._registry) == set(REGISTERED)


@pytest.mark.parametrize("model", REGISTERED)
def test_changelist_add_and_change_pages_answer_200(admin_client, rows, model):
    meta = model._meta
    prefix = f"admin:{meta.app_label}_{meta.model_name}"
    assert admin_client.get(reverse(f"{prefix}_changelist")).status_code == 200
    add = admin_client.get(reverse(f"{prefix}_add")).status_code
    assert add == (403 if model in (SimilaritySnapshot, IndexChange) else 200)
    for obj in model.objects.all():
        response = admin_client.get(reverse(f"{prefix}_change", args=[obj.pk]))
        assert response.status_code == 200, (model, obj.pk)


def test_the_snapshot_page_lists_the_neighbours(admin_client, rows):
    snapshot = SimilaritySnapshot.objects.get(user=rows)
    page = admin_client.get(
        reverse("admin:recommendations_similaritysnapshot_change", args=[snapshot.pk])
    ).content.decode()
    assert "from hash fedcba9876543210" in page and "1 neighbours" in page
    assert "1. amy (" in page


# What identifies a row of each model on its changelist.
ROW_KEY = {
    MalUser: lambda u: u.username,
    Anime: lambda a: a.id,
    ListEntry: lambda e: (e.user.username, e.anime_id),
    SimilaritySnapshot: lambda s: s.user.username,
    IndexChange: lambda c: (c.kind, c.object_id),
}


@pytest.mark.parametrize("model, query, shown", [
    (MalUser, "q=req", ["req_user"]),
    (MalUser, "o=3", ["req_user", "amy"]),  # by entry count: 2, then 3
    (MalUser, "o=-3", ["amy", "req_user"]),
    (Anime, "q=Sequel", [2]),
    (Anime, "q=2", [2]),  # an exact id
    (Anime, "rating__exact=pg_13", [1]),
    (Anime, "airing_status__exact=currently_airing", [2]),
    (ListEntry, "status__exact=watching", [("amy", 1)]),
    (ListEntry, "q=amy", [("amy", 1), ("amy", 2), ("amy", 424243)]),
    (ListEntry, "score__exact=3", [("req_user", 424242)]),
    (SimilaritySnapshot, "q=req", ["req_user"]),
    (IndexChange, "kind__exact=anime", [("anime", 2)]),
])
def test_search_filters_and_sorting_show_the_matching_rows(admin_client, rows, model, query,
                                                           shown):
    meta = model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    response = admin_client.get(f"{url}?{query}")
    assert response.status_code == 200
    listed = [ROW_KEY[model](row) for row in response.context["cl"].result_list]
    if "o=" in query:
        assert listed == shown
    else:
        assert sorted(listed) == sorted(shown)


def test_sorting_list_entries_by_anime_title_lists_every_entry(admin_client, rows):
    # The title is annotated from the catalog; an entry of an unknown anime has none.
    response = admin_client.get(reverse("admin:users_listentry_changelist") + "?o=3")
    assert response.status_code == 200
    listed = sorted(ROW_KEY[ListEntry](e) for e in response.context["cl"].result_list)
    assert listed == [("amy", 1), ("amy", 2), ("amy", 424243), ("req_user", 1),
                      ("req_user", 424242)]


def test_the_user_page_shows_the_hash_in_hex_and_the_neighbour_snapshot(admin_client, rows):
    response = admin_client.get(reverse("admin:users_maluser_change", args=[rows.pk]))
    page = response.content.decode()
    assert "fedcba9876543210" in page
    assert "1. amy (98% similar)" in page  # hashes differ in bit value 1, a masked bit: distance 2


def test_the_user_list_shows_hashes_in_hex(admin_client, rows):
    page = admin_client.get(reverse("admin:users_maluser_changelist")).content.decode()
    assert "fedcba9876543210" in page and "fedcba9876543211" in page


def test_a_superuser_can_save_a_user_with_a_top_bit_hash(admin_client, rows):
    url = reverse("admin:users_maluser_change", args=[rows.pk])
    data = {
        "username": "req_user", "hash": str(0xFFFF_FFFF_FFFF_FFFF),
        "list_synced_at_0": "", "list_synced_at_1": "",
        "full_synced_at_0": "", "full_synced_at_1": "",
        "entries-TOTAL_FORMS": "0", "entries-INITIAL_FORMS": "0",
        "entries-MIN_NUM_FORMS": "0", "entries-MAX_NUM_FORMS": "1000",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert MalUser.objects.get(pk=rows.pk).hash == 0xFFFF_FFFF_FFFF_FFFF


# Edits made in the admin must reach the in-memory index through the change feed, like
# any other write (otherwise every process serves the old data until it restarts).

def _anime_form(anime, **changes):
    data = {"id": anime.id, "title": anime.title, "media_type": anime.media_type,
            "episodes": anime.episodes or "", "mean": anime.mean or "",
            "rating": anime.rating or "", "picture": anime.picture or "",
            "airing_status": anime.airing_status or "", "genres": "[1]",
            "start_date": anime.start_date or "", "parent": anime.parent_id or "",
            "relations_checked_at_0": "", "relations_checked_at_1": ""}
    return {**data, **changes}


def test_an_anime_edited_in_the_admin_reaches_the_index(admin_client, client,
                                                        django_capture_on_commit_callbacks):
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    amy = user_at(1, "amy")
    show = AnimeFactory(id=5, title="Old Title", mean=8.0)
    ListEntryFactory(user=amy, anime=show, score=9)
    assert json_ok(client.get("/req_user/recommendations"))["data"][0]["details"]["title"] \
        == "Old Title"
    url = reverse("admin:recommendations_anime_change", args=[show.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, _anime_form(show, title="New Title"))
    assert response.status_code == 302, response.content.decode()[:2000]
    data = json_ok(client.get("/req_user/recommendations"))["data"]
    assert data[0]["details"]["title"] == "New Title"
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, _anime_form(show, title="New Title", mean=""))
    assert json_ok(client.get("/req_user/recommendations"))["data"] == []


def test_a_user_edited_or_deleted_in_the_admin_reaches_the_index(
        admin_client, client, django_capture_on_commit_callbacks):
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    amy = user_at(1, "amy")
    MalUserFactory(username="fresh_one", hash=REQUESTER_HASH)
    MalUserFactory(username="fresh_two", hash=REQUESTER_HASH)
    before = {u["username"]: u["hash"] for u in json_ok(client.get("/req_user/similar"))["data"]}
    assert before["amy"] == format(hash_at(1), "x")  # the index is built
    url = reverse("admin:users_maluser_change", args=[amy.pk])
    form = {"username": "amy", "hash": str(hash_at(40)),
            "list_synced_at_0": "", "list_synced_at_1": "",
            "full_synced_at_0": "", "full_synced_at_1": "",
            "entries-TOTAL_FORMS": "0", "entries-INITIAL_FORMS": "0",
            "entries-MIN_NUM_FORMS": "0", "entries-MAX_NUM_FORMS": "1000"}
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, form).status_code == 302
    similar = {u["username"]: u for u in json_ok(client.get("/fresh_one/similar"))["data"]}
    assert similar["amy"]["hash"] == format(hash_at(40), "x")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:users_maluser_delete", args=[amy.pk]),
                                     {"post": "yes"})
    assert response.status_code == 302
    names = [u["username"] for u in json_ok(client.get("/fresh_two/similar"))["data"]]
    assert "amy" not in names


def test_a_list_entry_edited_in_the_admin_reaches_the_index(admin_client, client,
                                                            django_capture_on_commit_callbacks):
    MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    amy = user_at(1, "amy")
    listed = ListEntryFactory(user=amy, anime=AnimeFactory(id=5), score=9)
    assert [i["id"] for i in json_ok(client.get("/req_user/recommendations/amy"))["data"]] == [5]
    form = {"user": amy.pk, "anime": 5, "status": "completed", "score": "0",
            "episodes_watched": "12", "updated_at_0": "2024-01-01", "updated_at_1": "00:00:00"}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:users_listentry_change", args=[listed.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert json_ok(client.get("/req_user/recommendations/amy"))["data"] == []
