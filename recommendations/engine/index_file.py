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

The files may hold lists imported from private exports: folders are made 0700 and files
0600, and the lock file is never opened through a symbolic link. A failed save leaves no
temporary folder behind, and a saved folder that cannot be read back (``IndexFileCorrupt``)
is for the caller to remove and build again.
"""
import fcntl
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from recommendations.engine.user_index import UserIndex

ARRAYS = ("ids", "hashes", "names", "alive", "indptr", "anime_ids", "scores", "updated")
FOLDER_MODE = 0o700
FILE_MODE = 0o600
TMP_MARK = ".tmp-"


class IndexFileCorrupt(ValueError):
    """A saved index folder cannot be read back (files missing, truncated or inconsistent)."""


def save(index: UserIndex, folder: Path) -> None:
    """Write ``index`` (overlay folded in) to ``folder`` atomically (call under
    ``build_lock``: temporary folders of other builders are then leftovers of a crash)."""
    if index.overlay or not index.alive.all():
        index = index.compact()
    folder = Path(folder)
    _remove_leftovers(folder)
    tmp = folder.with_name(f"{folder.name}{TMP_MARK}{os.getpid()}")
    tmp.mkdir(mode=FOLDER_MODE, parents=True)
    try:
        for name in ARRAYS + ("name_rank",):
            fd = os.open(tmp / f"{name}.npy",
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, np.ascontiguousarray(getattr(index, name)),
                        allow_pickle=False)
        if folder.exists():  # another process saved the same index first
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk must not leave half a copy
        raise


def load(folder: Path) -> UserIndex:
    """The index saved in ``folder``, its arrays mapped read-only; ``IndexFileCorrupt``
    when the folder does not hold a whole, consistent index."""
    try:
        arrays = {name: np.load(Path(folder) / f"{name}.npy", mmap_mode="r",
                                allow_pickle=False).view(np.ndarray)
                  for name in ARRAYS + ("name_rank",)}
    except (OSError, ValueError, EOFError) as error:
        raise IndexFileCorrupt(f"{folder}: {error}") from None
    _check_shapes(folder, arrays)
    rank = arrays.pop("name_rank")
    index = UserIndex(**arrays)
    index._keep_name_rank(rank)
    return index


def _check_shapes(folder, arrays: dict) -> None:
    users = len(arrays["ids"])
    entries = len(arrays["anime_ids"])
    indptr = arrays["indptr"]
    whole = (all(len(arrays[n]) == users for n in ("hashes", "names", "alive", "name_rank"))
             and len(indptr) == users + 1 and int(indptr[0]) == 0
             and int(indptr[-1]) == entries
             and all(len(arrays[n]) == entries for n in ("scores", "updated")))
    if not whole:
        raise IndexFileCorrupt(f"{folder}: the arrays do not fit together")


def discard(folder: Path) -> None:
    """Remove a saved folder that cannot be read (call under ``build_lock``)."""
    shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def build_lock(folder: Path):
    """Hold an exclusive lock for building ``folder``'s index (blocks while another has it).

    The lock file is opened without following a symbolic link: whoever can write to the
    folder must not make us create or truncate a file elsewhere.
    """
    folder = Path(folder)
    folder.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    lock = folder.parent / f".{folder.name.split('@')[0]}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _remove_leftovers(folder: Path) -> None:
    """Temporary folders of the same database left by a builder that died mid-save."""
    prefix = folder.name.split("@")[0] + "@"
    for other in folder.parent.glob(prefix + "*"):
        if TMP_MARK in other.name and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)


def remove_others(folder: Path) -> None:
    """Delete the older index folders of the same database (processes that still map
    them keep their data until they let go: unlinking mapped files is safe on POSIX)."""
    folder = Path(folder)
    prefix = folder.name.split("@")[0] + "@"
    for other in folder.parent.glob(prefix + "*"):
        if other != folder and other.is_dir() and TMP_MARK not in other.name:
            shutil.rmtree(other, ignore_errors=True)
