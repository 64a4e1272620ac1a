"""Hash distance and nearest-neighbour search over uint64 arrays (no Django).

``distance(a, b) = popcount(a ^ b) + popcount((a ^ b) & M)``: bits outside the genre and
theme slots count twice. It runs from 0 to 83; ``similarity = 100 - floor(d * 100 / 83)``.
Since each step of the distance moves the percentage by more than one, ordering by
distance and ordering by similarity are the same thing.
"""
import threading

import numpy as np

MASK = np.uint64(0xE546A06043001091)
MAX_DISTANCE = 83
# The cut-off distance is first estimated on every SAMPLE_STRIDE-th row.
SAMPLE_STRIDE = 61

# Per-thread work arrays of the scan. Fresh arrays of 8 bytes a user would each cost a
# page fault every 4 KB, which took longer than the arithmetic itself.
_scratch = threading.local()


def _work_arrays(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays = getattr(_scratch, "arrays", None)
    if arrays is None or arrays[0].size < n:
        arrays = (np.empty(n, np.uint64), np.empty(n, np.uint8), np.empty(n, np.uint8))
        _scratch.arrays = arrays
    return arrays[0][:n], arrays[1][:n], arrays[2][:n]


def distance(a: int, b: int) -> int:
    x = (int(a) ^ int(b)) & 0xFFFFFFFFFFFFFFFF
    return x.bit_count() + (x & int(MASK)).bit_count()


def similarity(d):
    """Integer percentage for a distance (scalar or array)."""
    return 100 - (np.asarray(d, dtype=np.int64) * 100) // MAX_DISTANCE


def distances(hashes: np.ndarray, target: int, *, reuse: bool = False) -> np.ndarray:
    """Distance from ``target`` to every hash.

    Parameters
    ----------
    hashes : ndarray of uint64, shape (n,)
    target : int
    reuse : bool
        Write into this thread's work array instead of a new one; the result is then
        only valid until this thread's next call (the index's scan uses this).

    Returns
    -------
    ndarray of uint8, shape (n,)
    """
    if hashes.dtype != np.uint64:
        raise ValueError(f"hashes must be uint64, got {hashes.dtype}")
    diff, spare, shared_out = _work_arrays(len(hashes))
    out = shared_out if reuse else np.empty(len(hashes), dtype=np.uint8)
    np.bitwise_xor(hashes, np.uint64(target), out=diff)
    np.bitwise_count(diff, out=out)
    np.bitwise_and(diff, MASK, out=diff)
    np.bitwise_count(diff, out=spare)
    np.add(out, spare, out=out)
    return out


def nearest(dist: np.ndarray, name_rank: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` smallest distances, ties broken by name ascending.

    Avoids a full sort: the cut-off distance (see ``_cutoff``) leaves only the rows at
    or under it, and (distance, name rank) as one integer key orders them.

    Parameters
    ----------
    dist : ndarray of uint8, shape (n,)
        Distances; rows to skip (the requester, deleted users) carry any value above
        ``MAX_DISTANCE``.
    name_rank : ndarray of int64, shape (n,)
        Each row's place in the names' order (``name_ranks(names)``).
    k : int

    Returns
    -------
    ndarray of int64, at most ``k`` rows in order.
    """
    if dist.shape != name_rank.shape:
        raise ValueError("dist and name_rank must have the same shape")
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    cutoff = _cutoff(dist, k)
    if cutoff is None:
        return np.zeros(0, dtype=np.int64)
    rows = np.flatnonzero(dist <= cutoff)
    key = (dist[rows].astype(np.int64) << 40) | name_rank[rows]
    if rows.size > k:
        chosen = np.argpartition(key, k - 1)[:k]
        rows, key = rows[chosen], key[chosen]
    return rows[np.argsort(key)]


def name_ranks(names: np.ndarray) -> np.ndarray:
    """Each row's place in the byte order of ``names`` (equal names: by row), as int64."""
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def _cutoff(dist: np.ndarray, k: int) -> int | None:
    """The smallest distance ``c`` with at least ``k`` rows at or under it (or every row
    when fewer are valid); None when no row is valid.

    A histogram of a strided sample gives a first guess, then exact counts move it: two
    or three passes of a comparison, where a full ``bincount`` costs ten times more.
    """
    sample = np.bincount(dist[::SAMPLE_STRIDE], minlength=256)[: MAX_DISTANCE + 1]
    guess = np.searchsorted(np.cumsum(sample) * (dist.size / max(dist[::SAMPLE_STRIDE].size, 1)), k)
    cutoff = int(min(guess, MAX_DISTANCE))
    count = np.count_nonzero(dist <= cutoff)
    if count >= k:
        while cutoff > 0:
            below = np.count_nonzero(dist <= cutoff - 1)
            if below < k:
                break
            cutoff, count = cutoff - 1, below
        return cutoff
    while cutoff < MAX_DISTANCE:
        cutoff += 1
        count = np.count_nonzero(dist <= cutoff)
        if count >= k:
            return cutoff
    return cutoff if count else None

