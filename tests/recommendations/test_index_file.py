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


def _modes(root):
    return {p.relative_to(root).as_posix(): p.stat().st_mode & 0o777
            for p in [root, *root.rglob("*")]}


def test_saved_files_are_readable_by_their_owner_only(tmp_path):
    import os
    previous = os.umask(0o022)  # a usual umask: left alone, files would be world-readable
    try:
        index_file.save(_index(), tmp_path / "base" / "state-1")
    finally:
        os.umask(previous)
    modes = _modes(tmp_path / "base" / "state-1")
    assert modes.pop(".") == 0o700
    assert modes and set(modes.values()) == {0o600}


def test_the_lock_file_is_not_opened_through_a_symbolic_link(tmp_path):
    import pytest

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    base = tmp_path / "index"
    base.mkdir()
    (base / ".sqlite-db.lock").symlink_to(victim)
    with pytest.raises(OSError):
        with index_file.build_lock(base / "sqlite-db@1-x"):
            pass
    assert victim.read_text() == "keep me"


def test_a_failed_save_leaves_no_temporary_folder(tmp_path, monkeypatch):
    import pytest

    calls = []

    def disk_full(handle, array, allow_pickle):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_save(handle, array, allow_pickle=allow_pickle)

    real_save = np.save
    monkeypatch.setattr(index_file.np, "save", disk_full)
    with pytest.raises(OSError):
        index_file.save(_index(), tmp_path / "db@1-x")
    assert list(tmp_path.iterdir()) == []


def test_a_save_removes_what_a_crashed_builder_left(tmp_path):
    leftover = tmp_path / "db@1-x.tmp-99999"
    leftover.mkdir()
    (leftover / "ids.npy").write_bytes(b"half")
    other_db = tmp_path / "otherdb@1-x.tmp-99999"
    other_db.mkdir()
    index_file.save(_index(), tmp_path / "db@2-y")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db@2-y", "otherdb@1-x.tmp-99999"]


def test_an_unreadable_saved_folder_is_built_again(db, settings, tmp_path, caplog):
    import logging

    settings.INDEX_DIR = str(tmp_path)
    MalUserFactory(username="someone", hash=0x1234)
    live_index.build_index()
    [folder] = [f for f in tmp_path.iterdir() if f.is_dir()]
    (folder / "hashes.npy").write_bytes((folder / "hashes.npy").read_bytes()[:40])  # cut
    with caplog.at_level(logging.WARNING, logger="recommendations.live_index"):
        rebuilt = live_index.build_index()
    assert rebuilt.users.names.tolist() == [b"someone"]
    assert "building it again" in caplog.text
    live_index.build_index()  # the new copy maps cleanly: no second rebuild
    assert caplog.text.count("building it again") == 1


def test_a_saved_folder_whose_arrays_do_not_fit_is_refused(tmp_path):
    import pytest

    index_file.save(_index(), tmp_path / "db@1-x")
    np.save(tmp_path / "db@1-x" / "hashes.npy", np.zeros(3, dtype=np.uint64))
    with pytest.raises(index_file.IndexFileCorrupt):
        index_file.load(tmp_path / "db@1-x")
