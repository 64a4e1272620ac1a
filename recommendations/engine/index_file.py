"""The user index saved as a folder of ``.npy`` files and opened memory-mapped (no Django).

Every worker process of a deployment needs the same index. Building it from the database
takes seconds and hundreds of MB per process; instead the first process to need it
builds it once and saves it, and every process maps the saved arrays read-only: the page
cache holds one copy that all workers share, and a worker only pages in what it reads
(the hashes and names on a scan, the entries of the users it ranks).

Files are named by a *key* that the caller derives from the database (its identity and the
position of the change feed), so a stale file is never picked up; writes go to a
temporary folder renamed into place, and a lock file makes concurrent builders wait for
the first one instead of all building.
"""
import fcntl
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from recommendations.engine.user_index import UserIndex

ARRAYS = ("ids", "hashes", "names", "alive", "indptr", "anime_ids", "scores", "updated")


def save(index: UserIndex, folder: Path) -> None:
    """Write ``index`` (overlay folded in) to ``folder`` atomically."""
    if index.overlay or not index.alive.all():
        index = index.compact()
    folder = Path(folder)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in ARRAYS + ("name_rank",):
        np.save(tmp / f"{name}.npy", np.ascontiguousarray(getattr(index, name)),
                allow_pickle=False)
    if folder.exists():  # another process saved the same index first
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, folder)


def load(folder: Path) -> UserIndex:
    """The index saved in ``folder``, its arrays mapped read-only."""
    arrays = {name: np.load(Path(folder) / f"{name}.npy", mmap_mode="r", allow_pickle=False)
              .view(np.ndarray) for name in ARRAYS + ("name_rank",)}
    rank = arrays.pop("name_rank")
    index = UserIndex(**arrays)
    index._keep_name_rank(rank)
    return index


@contextmanager
def build_lock(folder: Path):
    """Hold an exclusive lock for building ``folder``'s index (blocks while another has it)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name.split('@')[0]}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_others(folder: Path) -> None:
    """Delete the older index folders of the same database (processes that still map
    them keep their data until they let go: unlinking mapped files is safe on POSIX)."""
    folder = Path(folder)
    prefix = folder.name.split("@")[0] + "@"
    for other in folder.parent.glob(prefix + "*"):
        if other != folder and other.is_dir() and ".tmp-" not in other.name:
            shutil.rmtree(other, ignore_errors=True)
