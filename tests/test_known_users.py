"""A process keeps the users it read, exactly as current as its index: a change another
process writes is seen on the next poll, this process's own writes at once."""
import pytest

from recommendations import live_index
from recommendations.models import IndexChange
from tests.factories import MalUserFactory
from tests.helpers import REQUESTER_HASH, hash_at
from users import selectors
from users.models import MalUser

pytestmark = pytest.mark.django_db


def test_a_known_user_is_read_once(django_assert_num_queries):
    MalUserFactory(username="kept_user")
    selectors.mal_user_by_name("kept_user")
    with django_assert_num_queries(0):
        assert selectors.mal_user_by_name("kept_user").username == "kept_user"


def test_a_change_is_seen_once_the_index_applies_it():
    user = MalUserFactory(username="kept_user", hash=REQUESTER_HASH)
    assert selectors.mal_user_by_name("kept_user").hash == REQUESTER_HASH
    # Another process stores a new hash and notes it in the feed.
    MalUser.objects.filter(id=user.id).update(hash=hash_at(9))
    IndexChange.objects.create(kind=IndexChange.Kind.USER, object_id=user.id)
    live_index.refresh_now()  # the poll falls due
    assert selectors.mal_user_by_name("kept_user").hash == hash_at(9)


def test_a_renamed_or_deleted_user_is_not_found_under_the_old_name():
    user = MalUserFactory(username="old_name")
    assert selectors.mal_user_by_name("old_name") is not None
    MalUser.objects.filter(id=user.id).update(username="new_name")
    IndexChange.objects.create(kind=IndexChange.Kind.USER, object_id=user.id)
    live_index.refresh_now()
    assert selectors.mal_user_by_name("old_name") is None
    assert selectors.mal_user_by_name("new_name").id == user.id


def test_a_row_read_before_a_change_was_applied_is_not_kept(monkeypatch):
    user = MalUserFactory(username="kept_user", hash=REQUESTER_HASH)
    live_index.current_index()
    stale_generation = selectors._known.generation
    selectors._known.forget({"kept_user"})  # a poll applied a change meanwhile
    selectors._known.keep(user, stale_generation)
    assert selectors._known.get("kept_user") is None


def test_a_user_without_a_hash_is_read_every_time(django_assert_num_queries):
    MalUserFactory(username="no_hash_yet", hash=None)
    selectors.mal_user_by_name("no_hash_yet")
    with django_assert_num_queries(1):
        selectors.mal_user_by_name("no_hash_yet")
