"""The memory-mapped index file (recommendations/index_file.py) and INDEX_DIR in the live_index."""
import numpy as np

from recommendations import live_index
from recommendations.engine import index_file
from recommendations.engine.user_index import UserIndex, UserRecord
from tests.factories import MalUserFactory


def _index(n=50, seed=3):
    rng = np.random.default_rng(seed)
    entry_users = rng.integers(1, n + 1, size=400)
    return UserIndex.from_arrays(
        ids=np.arange(1, n + 1), names=[f"user_{i:03d}" for i in range(n)],
        hashes=rng.integers(1, 2**63, size=n, dtype=np.int64).astype(np.uint64),
        entry_user_ids=entry_users, anime_ids=rng.integers(1, 500, size=400),
        scores=rng.integers(1, 11, size=400), updated=rng.integers(0, 10**9, size=400),
    )


def test_a_saved_index_answers_as_the_original(tmp_path):
    original = _index()
    index_file.save(original, tmp_path / "state-1")
    mapped = index_file.load(tmp_path / "state-1")
    for target in (0, 2**63 + 5, 12345678901234):
        assert [a.tolist() for a in mapped.nearest(target, 20)] == \
            [a.tolist() for a in original.nearest(target, 20)]
    ids = [3, 17, 50, 999]
    got, want = mapped.entries_of(ids), original.entries_of(ids)
    for name in ("owner", "anime_ids", "scores", "updated"):
        assert getattr(got, name).tolist() == getattr(want, name).tolist()


def test_a_saved_index_folds_in_pending_changes(tmp_path):
    changed = _index().apply(
        upserts=[UserRecord(id=77, username="late", hash=7, anime_ids=np.array([1]),
                            scores=np.array([9]), updated=np.array([5]))],
        removals=[1])
    index_file.save(changed, tmp_path / "state-2")
    mapped = index_file.load(tmp_path / "state-2")
    assert mapped.row_of(1) is None
    assert mapped.entries_of([77]).anime_ids.tolist() == [1]


def test_workers_with_an_index_dir_share_one_saved_file(db, settings, tmp_path, monkeypatch):
    settings.INDEX_DIR = str(tmp_path)
    MalUserFactory(username="someone", hash=0x1234)
    first = live_index.build_index()
    assert len([f for f in tmp_path.iterdir() if f.is_dir()]) == 1

    def no_second_build():
        raise AssertionError("a second worker must map the saved file, not read the database")

    monkeypatch.setattr(live_index, "users_from_db", no_second_build)
    second = live_index.build_index()  # another worker, same database state
    assert first.users.names.tolist() == second.users.names.tolist() == [b"someone"]
