"""The admin answers a superuser on every page of every registered model."""
import pytest
from django.contrib import admin
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
    parent = AnimeFactory(id=1, title="Parent Show")
    AnimeFactory(id=2, title="Sequel Show", parent=parent)
    user = MalUserFactory(username="req_user", hash=0xFEDC_BA98_7654_3210)
    amy = MalUserFactory(username="amy", hash=0xFEDC_BA98_7654_3211)
    ListEntryFactory(user=user, anime=parent)
    ListEntryFactory(user=amy, anime=parent)
    # An entry of an anime the catalog does not know must not break the pages.
    ListEntry.objects.create(user=user, anime_id=424242, status="completed", score=3,
                             updated_at=timezone.now())
    json_ok(client.get("/req_user/similar"))  # stores the snapshot
    IndexChange.objects.create(kind=IndexChange.Kind.USER, object_id=user.id)
    return user


def _models():
    return [model for model in admin.site._registry
            if model._meta.app_label in ("users", "recommendations")]


def test_every_model_of_the_apps_is_registered():
    assert set(_models()) == {Anime, SimilaritySnapshot, IndexChange, MalUser, ListEntry}


@pytest.mark.parametrize("model", [Anime, SimilaritySnapshot, IndexChange, MalUser, ListEntry])
def test_changelist_add_and_change_pages_answer_200(admin_client, rows, model):
    meta = model._meta
    prefix = f"admin:{meta.app_label}_{meta.model_name}"
    assert admin_client.get(reverse(f"{prefix}_changelist")).status_code == 200
    add = admin_client.get(reverse(f"{prefix}_add")).status_code
    assert add == (403 if model is SimilaritySnapshot else 200)
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


@pytest.mark.parametrize("model, query", [
    (MalUser, "q=req"), (MalUser, "o=3"), (Anime, "q=Sequel"), (Anime, "q=2"),
    (Anime, "rating__exact=pg_13"), (Anime, "airing_status__exact=finished_airing"),
    (ListEntry, "status__exact=completed"), (ListEntry, "q=amy"), (ListEntry, "o=3"),
    (SimilaritySnapshot, "q=req"), (IndexChange, "kind__exact=user"),
])
def test_search_filters_and_sorting_answer_200(admin_client, rows, model, query):
    meta = model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    assert admin_client.get(f"{url}?{query}").status_code == 200


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
