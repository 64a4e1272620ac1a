"""The in-memory user index: nearest users, CSR entries, immutable updates (no DB)."""
import numpy as np

from recommendations.engine.similarity import distance
from recommendations.engine.user_index import UserIndex, UserRecord


def _index():
    # user 30 has two entries, 10 one, 20 none; entries given out of order.
    return UserIndex.from_arrays(
        ids=[30, 10, 20], names=["carol", "alice", "bob"],
        hashes=np.array([0b111, 0b1, 0b11], dtype=np.uint64),
        entry_user_ids=[30, 10, 30, 99], anime_ids=[5, 6, 7, 8], scores=[9, 8, 7, 6],
        updated=[100, 200, 300, 400],
    )


def _record(user_id, name, value, anime_ids=(), scores=()):
    return UserRecord(id=user_id, username=name, hash=value,
                      anime_ids=np.array(anime_ids, np.int32),
                      scores=np.array(scores, np.uint8),
                      updated=np.zeros(len(anime_ids), np.int64))


def test_it_orders_rows_by_id_and_drops_entries_of_unknown_users():
    index = _index()
    assert index.ids.tolist() == [10, 20, 30]
    assert len(index) == 3
    entries = index.entries_of([30, 10, 20, 12345])
    assert entries.owner.tolist() == [0, 0, 1]
    assert entries.anime_ids.tolist() == [5, 7, 6]
    assert entries.scores.tolist() == [9, 7, 8]


def test_nearest_excludes_the_requester_and_orders_by_distance():
    index = _index()
    ids, dists = index.nearest(0b1, 10, exclude_id=10)
    # bob 0b11 differs from 0b1 in bit value 2 (not masked): 1; carol 0b111: 2.
    assert ids.tolist() == [20, 30]
    assert dists.tolist() == [distance(1, 0b11), distance(1, 0b111)]


def test_apply_returns_a_new_index_and_leaves_the_old_one_alone():
    index = _index()
    new = index.apply(upserts=[_record(10, "alice", 0b111, [42], [10]),
                               _record(40, "dave", 0b1, [43], [3])],
                      removals=[30])
    assert index.row_of(30) is not None and index.entries_of([10]).anime_ids.tolist() == [6]
    assert new.row_of(30) is None
    assert new.entries_of([10, 40]).anime_ids.tolist() == [42, 43]
    ids, _ = new.nearest(0b1, 10)
    assert ids.tolist() == [40, 20, 10]  # dave (0), bob (1), alice now 0b111 (2)
    assert len(new) == 3


def test_compact_keeps_the_same_view():
    new = _index().apply(upserts=[_record(10, "alice", 0b1, [42, 44], [10, 1])], removals=[20])
    compacted = new.compact()
    assert compacted.ids.tolist() == [10, 30]
    assert compacted.overlay == {}
    for user_id in (10, 30):
        a, b = new.entries_of([user_id]), compacted.entries_of([user_id])
        assert a.anime_ids.tolist() == b.anime_ids.tolist()
        assert a.scores.tolist() == b.scores.tolist()


def test_an_empty_index_finds_nobody():
    ids, dists = UserIndex.empty().nearest(123, 5)
    assert ids.tolist() == [] and dists.tolist() == []
