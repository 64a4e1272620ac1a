"""One stored neighbour list per requester (SimilaritySnapshot), and the index seeing
changes through the IndexChange feed."""
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from recommendations import live_index, neighbours
from recommendations.models import IndexChange, SimilaritySnapshot
from tests.factories import AnimeFactory, ListEntryFactory, MalUserFactory
from tests.helpers import REQUESTER_HASH, entry, hash_at, json_ok, user_at
from users.models import MalUser
from users.services import mal_user_rehash

pytestmark = pytest.mark.django_db


def _requester_among(others: int, prefix: str):
    """The requester and ``others`` users at distances 1 to 20 from them."""
    requester = MalUserFactory(username="req_user", hash=REQUESTER_HASH)
    MalUser.objects.bulk_create(
        MalUser(username=f"{prefix}{i:04d}", hash=hash_at(1 + i % 20)) for i in range(others))
    return requester


@pytest.fixture
def crowd():
    return _requester_among(70, "n_")


def _names(client, path):
    return [u["username"] for u in json_ok(client.get(path))["data"]]


def _add_closest_user(username="aaa_newcomer"):
    # Identical hash and a name sorting first: it would head every page if seen.
    user = MalUserFactory(username=username, hash=REQUESTER_HASH)
    live_index.record_changes(IndexChange.Kind.USER, [user.id])
    live_index.refresh_now()
    return user


@pytest.fixture
def full_crowd():
    """More users than a neighbour list holds, so a stored list is full and reusable."""
    return _requester_among(1300, "u_")


def _walk(client, pages):
    return [_names(client, f"/req_user/similar?page={page}") for page in pages]


def test_a_walk_start_stores_the_neighbour_list(client, crowd):
    _names(client, "/req_user/similar")
    snapshot = SimilaritySnapshot.objects.get(user=crowd)
    assert snapshot.hash == REQUESTER_HASH
    assert len(snapshot.neighbour_ids) == len(snapshot.distances) == 70
    assert crowd.id not in snapshot.neighbour_ids
    assert snapshot.distances == sorted(snapshot.distances)


def test_a_newcomer_heads_the_first_page_at_once(client, full_crowd):
    first = _names(client, "/req_user/similar")
    newcomer = _add_closest_user()
    again = _names(client, "/req_user/similar")
    assert again == ["aaa_newcomer"] + first[:-1]
    assert SimilaritySnapshot.objects.get(user=full_crowd).neighbour_ids[0] == newcomer.id


def test_later_pages_of_a_walk_read_the_stored_list(client, full_crowd):
    page1 = _names(client, "/req_user/similar")
    _add_closest_user()
    page2, page3 = _walk(client, [2, 3])
    assert len(set(page1 + page2 + page3)) == 96
    assert "aaa_newcomer" not in page1 + page2 + page3


def test_another_worker_walks_on_with_the_stored_list(client, full_crowd):
    page1 = _names(client, "/req_user/similar")
    _add_closest_user()
    neighbours.forget_all()  # as a worker that did not serve page 1 would be
    page2, page3 = _walk(client, [2, 3])
    assert len(set(page1 + page2 + page3)) == 96
    assert "aaa_newcomer" not in page1 + page2 + page3


def test_a_later_page_reads_no_stored_list_while_the_users_stay_unchanged(
        client, full_crowd, settings, monkeypatch, django_assert_num_queries):
    page1 = _names(client, "/req_user/similar")
    neighbours.forget_all()
    later = time.time() + settings.SIMILARITY_PAGING_WINDOW_SECONDS
    monkeypatch.setattr(neighbours.time, "time", lambda: later)
    with django_assert_num_queries(0):  # no snapshot (and the requester is known)
        page2 = _names(client, "/req_user/similar?page=2")
    assert page2 == _names(client, "/req_user/similar?page=2") and page2[0] not in page1


def test_later_pages_are_computed_afresh_after_the_paging_window(client, full_crowd, settings,
                                                                  monkeypatch):
    page1 = _names(client, "/req_user/similar")
    _add_closest_user()
    later = time.time() + settings.SIMILARITY_PAGING_WINDOW_SECONDS
    monkeypatch.setattr(neighbours.time, "time", lambda: later)
    page2 = _names(client, "/req_user/similar?page=2")
    assert page2[0] == page1[-1]  # everyone moved down one place for the newcomer


def test_the_paging_window_is_capped_at_a_minute(client, full_crowd, settings, monkeypatch):
    settings.SIMILARITY_PAGING_WINDOW_SECONDS = 3600
    page1 = _names(client, "/req_user/similar")
    _add_closest_user()
    later = time.time() + 61
    monkeypatch.setattr(neighbours.time, "time", lambda: later)
    assert _names(client, "/req_user/similar?page=2")[0] == page1[-1]


def test_a_stored_list_shorter_than_the_index_could_give_is_not_reused(client, crowd):
    page1 = _names(client, "/req_user/similar")  # all 70 neighbours stored
    _add_closest_user()
    assert _names(client, "/req_user/similar?page=2")[0] == page1[-1]


def test_recommendation_batches_of_a_walk_read_the_same_list(client, full_crowd):
    anime = AnimeFactory(id=99)
    _names(client, "/req_user/similar")
    newcomer = _add_closest_user()
    entry(newcomer, anime, 10)
    live_index.record_changes(IndexChange.Kind.USER, [newcomer.id])
    live_index.refresh_now()
    for path in ("/req_user/recommendations?batch=1&page=2", "/req_user/random?batch=2"):
        assert 99 not in [item["id"] for item in json_ok(client.get(path))["data"]]
    # A new walk starts from the current list.
    assert 99 in [item["id"] for item in json_ok(client.get("/req_user/recommendations"))["data"]]


def test_a_list_that_cannot_be_stored_still_answers_and_is_stored_on_the_next_walk(
        client, crowd, monkeypatch, caplog):
    def database_busy(*args, **kwargs):
        raise OperationalError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(live_index, "store_snapshot", database_busy)
        assert len(_names(client, "/req_user/similar")) == 32
    assert not SimilaritySnapshot.objects.exists()
    assert "not stored: database is locked" in caplog.text
    _names(client, "/req_user/similar")
    assert len(SimilaritySnapshot.objects.get(user=crowd).neighbour_ids) == 70


def test_a_changed_requester_hash_makes_a_new_snapshot(client, crowd):
    first = _names(client, "/req_user/similar")
    far_away = hash_at(45)
    MalUser.objects.filter(id=crowd.id).update(hash=far_away)
    twin = MalUserFactory(username="far_twin", hash=far_away)
    live_index.record_changes(IndexChange.Kind.USER, [crowd.id, twin.id])
    live_index.refresh_now()
    second = _names(client, "/req_user/similar")
    assert second[0] == "far_twin" and second != first
    snapshot = SimilaritySnapshot.objects.get(user=crowd)
    assert snapshot.hash == far_away
    assert SimilaritySnapshot.objects.filter(user=crowd).count() == 1


class FrozenClock:
    """Stands in for the ``time`` module in ``engine``: a monotonic clock that does not move."""

    def __init__(self, monotonic):
        self._monotonic = monotonic

    def monotonic(self):
        return self._monotonic

    @staticmethod
    def time():
        return time.time()


def test_a_user_stored_through_the_services_reaches_the_index(client, crowd, monkeypatch):
    monkeypatch.setattr(live_index, "time", FrozenClock(1e6))  # no poll falls due by itself
    _names(client, "/req_user/similar")  # builds the index
    newcomer = MalUserFactory(username="aaa_newcomer", hash=None)
    ListEntryFactory(user=newcomer, anime=AnimeFactory(id=1, rating="pg_13", episodes=None,
                                                       start_date=None, genres=[]), score=9)
    mal_user_rehash(user=newcomer)  # hash 1 << 63, as the requester's; notes the change
    assert newcomer.hash == REQUESTER_HASH
    MalUserFactory(username="asker_one", hash=REQUESTER_HASH)
    assert "aaa_newcomer" not in _names(client, "/asker_one/similar")
    live_index.refresh_now()
    MalUserFactory(username="asker_two", hash=REQUESTER_HASH)
    assert _names(client, "/asker_two/similar")[0] == "aaa_newcomer"


def test_refresh_now_applies_the_feed_soon_after_boot(crowd, monkeypatch, settings):
    settings.INDEX_POLL_SECONDS = 3600
    monkeypatch.setattr(live_index, "time", FrozenClock(100.0))  # booted 100 s ago
    live_index.current_index()
    live_index.record_changes(IndexChange.Kind.USER, [MalUserFactory(username="late").id])
    live_index.refresh_now()
    assert "late" in [n.decode() for n in live_index.current_index().users.names]


def test_a_user_that_lost_its_hash_leaves_the_index(client, crowd):
    _names(client, "/req_user/similar")
    gone = MalUser.objects.get(username="n_0000")
    MalUser.objects.filter(id=gone.id).update(hash=None)
    live_index.record_changes(IndexChange.Kind.USER, [gone.id])
    live_index.refresh_now()
    # Even the stored snapshot skips it.
    names = _names(client, "/req_user/similar") + _names(client, "/req_user/similar?page=2") \
        + _names(client, "/req_user/similar?page=3")
    assert "n_0000" not in names and len(names) == 69


def test_changes_committed_by_a_request_are_applied_on_commit(
        crowd, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(live_index, "time", FrozenClock(1e6))  # no ordinary poll falls due
    live_index.current_index()
    newcomer = MalUserFactory(username="aaa_newcomer", hash=REQUESTER_HASH)
    with django_capture_on_commit_callbacks(execute=True):
        live_index.record_changes(IndexChange.Kind.USER, [newcomer.id])
    assert live_index.current_index().users.row_of(newcomer.id) is not None


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers: ids commit in order there")
@pytest.mark.django_db(transaction=True)
def test_a_change_that_commits_after_a_later_one_still_reaches_the_index(monkeypatch):
    monkeypatch.setattr(live_index, "time", FrozenClock(1e6))
    slow = MalUser.objects.create(username="slow_writer")
    fast = MalUser.objects.create(username="fast_writer")
    live_index.current_index()  # built without either (no hash yet)
    inserted, release = threading.Event(), threading.Event()

    def slow_transaction():
        try:
            with transaction.atomic():
                MalUser.objects.filter(id=slow.id).update(hash=REQUESTER_HASH)
                IndexChange.objects.create(kind=IndexChange.Kind.USER, object_id=slow.id)
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_transaction)
    thread.start()
    assert inserted.wait(10)
    MalUser.objects.filter(id=fast.id).update(hash=REQUESTER_HASH)
    IndexChange.objects.create(kind=IndexChange.Kind.USER, object_id=fast.id)  # a later id
    live_index.refresh_now()
    assert live_index.current_index().users.row_of(fast.id) is not None
    release.set()
    thread.join(10)
    live_index.refresh_now()
    assert live_index.current_index().users.row_of(slow.id) is not None


def test_a_feed_id_that_never_commits_stops_being_looked_for(monkeypatch, settings, db):
    settings.INDEX_POLL_SECONDS = 0
    clock = FrozenClock(1e6)
    monkeypatch.setattr(live_index, "time", clock)
    live_index.current_index()
    first = IndexChange.objects.create(kind=IndexChange.Kind.USER, object_id=1)
    rolled_back = IndexChange.objects.create(kind=IndexChange.Kind.USER, object_id=2).id
    later = IndexChange.objects.create(kind=IndexChange.Kind.USER, object_id=3)
    IndexChange.objects.filter(id=rolled_back).delete()  # as if it had rolled back
    assert first.id < rolled_back < later.id
    # (On PostgreSQL earlier tests' rolled-back ids may be missing too.)
    gaps = live_index.current_index().gaps
    assert rolled_back in gaps and first.id not in gaps and later.id not in gaps
    clock._monotonic += live_index.GAP_PATIENCE_SECONDS + 1
    state = live_index.current_index()
    assert state.gaps == {} and state.last_change_id == later.id


def test_a_batch_of_changed_users_each_get_their_own_entries(db):
    live_index.current_index()
    users = [user_at(i, f"batch_{i}") for i in range(1, 5)]
    for n, user in enumerate(reversed(users), start=1):  # entries stored out of user order
        for anime_id in range(n):
            entry(user, AnimeFactory(id=100 * n + anime_id), score=n)
    live_index.record_changes(IndexChange.Kind.USER, [u.id for u in users])
    live_index.refresh_now()
    index = live_index.current_index().users
    for n, user in enumerate(reversed(users), start=1):
        got = index.entries_of([user.id])
        assert sorted(got.anime_ids.tolist()) == [100 * n + a for a in range(n)]
        assert set(got.scores.tolist()) == {n}


def test_a_remembered_list_keeps_no_old_index_alive(client, crowd):
    import gc
    import weakref

    _names(client, "/req_user/similar")
    old_index = weakref.ref(live_index.current_index().users)
    _add_closest_user()
    live_index.current_index()  # the change applied: a new index
    gc.collect()
    assert old_index() is None
