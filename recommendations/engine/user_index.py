"""In-memory index of every hashed user and their recommendable entries (no Django).

Rows are kept in user-id order. Each row has the user's hash, name (the tie-breaker of
the similar list) and, in a CSR layout, the entries that can recommend something: watched
and scored, with the anime id, score and update time.

The index is immutable from a reader's point of view: ``apply`` returns a new index, so a
request that holds one keeps a consistent view while another thread swaps in the next.
Changed users go to a small overlay instead of rewriting the CSR arrays; the overlay is
folded back in (``compact``) once it grows.
"""
from dataclasses import dataclass, field

import numpy as np

from recommendations.engine.similarity import distances, name_ranks, nearest

NAME_DTYPE = "S16"
EMPTY_ENTRIES = (np.zeros(0, np.int32), np.zeros(0, np.uint8), np.zeros(0, np.int64))


@dataclass(frozen=True)
class UserRecord:
    """One user as the index needs it; entries are watched and scored only."""

    id: int
    username: str
    hash: int
    anime_ids: np.ndarray  # int32
    scores: np.ndarray  # uint8
    updated: np.ndarray  # int64, seconds since the epoch


@dataclass(frozen=True)
class Entries:
    """Entries of several users, concatenated; ``owner[i]`` is the position of the user."""

    owner: np.ndarray
    anime_ids: np.ndarray
    scores: np.ndarray
    updated: np.ndarray


@dataclass
class UserIndex:
    ids: np.ndarray  # int64, ascending
    hashes: np.ndarray  # uint64
    names: np.ndarray  # S16
    alive: np.ndarray  # bool
    indptr: np.ndarray  # int64, len(ids) + 1
    anime_ids: np.ndarray  # int32
    scores: np.ndarray  # uint8
    updated: np.ndarray  # int64
    overlay: dict = field(default_factory=dict)  # row -> (anime_ids, scores, updated)

    @classmethod
    def empty(cls) -> "UserIndex":
        return cls.from_arrays(
            ids=np.zeros(0, np.int64), names=np.zeros(0, NAME_DTYPE),
            hashes=np.zeros(0, np.uint64), entry_user_ids=np.zeros(0, np.int64),
            anime_ids=EMPTY_ENTRIES[0], scores=EMPTY_ENTRIES[1], updated=EMPTY_ENTRIES[2],
        )

    @classmethod
    def from_arrays(cls, *, ids, names, hashes, entry_user_ids, anime_ids, scores, updated):
        """Build from user arrays and entry arrays (entries in any order).

        Entries whose user is not among ``ids`` are dropped.
        """
        ids = np.asarray(ids, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        if ids.size and np.any(ids[1:] == ids[:-1]):
            raise ValueError("user ids must be unique")
        entry_user_ids = np.asarray(entry_user_ids, dtype=np.int64)
        rows = np.searchsorted(ids, entry_user_ids)
        rows_clipped = np.minimum(rows, max(len(ids) - 1, 0))
        known = (rows < len(ids)) & (ids[rows_clipped] == entry_user_ids) if ids.size else \
            np.zeros(len(entry_user_ids), dtype=bool)
        del rows_clipped
        rows = rows[known]
        indptr = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(ids)), out=indptr[1:])
        keep = slice(None) if known.all() else known  # a slice takes no copy
        columns = [np.asarray(a, dtype=t)[keep] for a, t in
                   ((anime_ids, np.int32), (scores, np.uint8), (updated, np.int64))]
        if rows.size and np.any(rows[1:] < rows[:-1]):
            take = np.argsort(rows, kind="stable")
            columns = [column[take] for column in columns]
        # else: already grouped by user in id order (the database loader): no sort needed
        return cls(
            ids=ids,
            hashes=np.asarray(hashes, dtype=np.uint64)[order],
            names=np.asarray(names, dtype=NAME_DTYPE)[order],
            alive=np.ones(len(ids), dtype=bool),
            indptr=indptr,
            anime_ids=columns[0], scores=columns[1], updated=columns[2],
        )

    def __len__(self) -> int:
        return int(self.alive.sum())

    def row_of(self, user_id: int) -> int | None:
        row = int(np.searchsorted(self.ids, user_id))
        if row < len(self.ids) and self.ids[row] == user_id and self.alive[row]:
            return row
        return None

    def rows_of(self, user_ids) -> np.ndarray:
        """Rows of many user ids at once, -1 for ids not (or no longer) in the index."""
        user_ids = np.asarray(user_ids, dtype=np.int64).ravel()
        if not len(self.ids):
            return np.full(len(user_ids), -1, dtype=np.int64)
        rows = np.minimum(np.searchsorted(self.ids, user_ids), len(self.ids) - 1)
        found = (self.ids[rows] == user_ids) & self.alive[rows]
        return np.where(found, rows, -1)

    def nearest(self, target_hash: int, k: int, *, exclude_id: int | None = None):
        """The ``k`` users closest to ``target_hash``: ``(user ids, distances)``."""
        # This thread's work array (no allocation): rows are masked in place, and only
        # copies of the chosen rows leave this method.
        dist = distances(self.hashes, target_hash, reuse=True)
        if self._has_removed:
            dist[~self.alive] = 255
        row = self.row_of(exclude_id) if exclude_id is not None else None
        if row is not None:
            dist[row] = 255
        rows = nearest(dist, self.name_rank, k)
        return self.ids[rows], dist[rows]

    @property
    def name_rank(self) -> np.ndarray:
        """Each row's place in the names' order (the tie-break of ``nearest``), computed
        once per names array: an index that only changed hashes keeps it."""
        cached = self.__dict__.get("_name_rank_cache")
        if cached is None or cached[0] is not self.names:
            cached = (self.names, name_ranks(self.names))
            self.__dict__["_name_rank_cache"] = cached
        return cached[1]

    def _keep_name_rank(self, rank: np.ndarray) -> None:
        self.__dict__["_name_rank_cache"] = (self.names, rank)

    @property
    def _has_removed(self) -> bool:
        cached = self.__dict__.get("_removed_cache")
        if cached is None or cached[0] is not self.alive:
            cached = (self.alive, not bool(self.alive.all()))
            self.__dict__["_removed_cache"] = cached
        return cached[1]

    def entries_of_row(self, row: int):
        if row in self.overlay:
            return self.overlay[row]
        start, stop = self.indptr[row], self.indptr[row + 1]
        return self.anime_ids[start:stop], self.scores[start:stop], self.updated[start:stop]

    def entries_of(self, user_ids) -> Entries:
        """Entries of the given users (unknown ids contribute none), owner = position."""
        rows = self.rows_of(user_ids)
        if self.overlay and any(row in self.overlay for row in rows.tolist()):
            return self._entries_of_rows([None if row < 0 else row for row in rows.tolist()])
        # One gather from the CSR arrays instead of a concatenation of slices.
        starts = np.where(rows >= 0, self.indptr[rows], 0)
        lengths = np.where(rows >= 0, self.indptr[rows + 1], 0) - starts
        owner = np.repeat(np.arange(len(rows)), lengths)
        offsets = np.cumsum(lengths) - lengths
        take = np.arange(owner.size) + np.repeat(starts - offsets, lengths)
        return Entries(owner=owner, anime_ids=self.anime_ids[take], scores=self.scores[take],
                       updated=self.updated[take])

    def _entries_of_rows(self, rows) -> Entries:
        parts = [EMPTY_ENTRIES if row is None else self.entries_of_row(row) for row in rows]
        if not parts:
            return Entries(np.zeros(0, np.int64), *EMPTY_ENTRIES)
        lengths = [len(p[0]) for p in parts]
        return Entries(
            owner=np.repeat(np.arange(len(parts)), lengths),
            anime_ids=np.concatenate([p[0] for p in parts]),
            scores=np.concatenate([p[1] for p in parts]),
            updated=np.concatenate([p[2] for p in parts]),
        )

    def apply(self, *, upserts: list[UserRecord] = (), removals=()) -> "UserIndex":
        """A new index with these users stored (added or replaced) and these ids removed."""
        new = UserIndex(
            ids=self.ids, hashes=self.hashes.copy(), names=self.names.copy(),
            alive=self.alive.copy(), indptr=self.indptr, anime_ids=self.anime_ids,
            scores=self.scores, updated=self.updated, overlay=dict(self.overlay),
        )
        for user_id in removals:
            row = new.row_of(int(user_id))
            if row is not None:
                new.alive[row] = False
                new.overlay.pop(row, None)
        appended = []
        renamed = False
        for record in upserts:
            row = int(np.searchsorted(new.ids, record.id))
            if row < len(new.ids) and new.ids[row] == record.id:
                new.hashes[row] = np.uint64(record.hash)
                renamed |= new.names[row] != record.username.encode()
                new.names[row] = record.username.encode()
                new.alive[row] = True
                new.overlay[row] = _record_entries(record)
            else:
                appended.append(record)
        cached = self.__dict__.get("_name_rank_cache")
        if not renamed and not appended and cached is not None and cached[0] is self.names:
            new._keep_name_rank(cached[1])  # same names in the same rows
        if appended:
            new = new._append(appended)
        if len(new.overlay) > max(1024, len(new.ids) // 20) or not _ascending(new.ids):
            new = new.compact()
        return new

    def _append(self, records: list[UserRecord]) -> "UserIndex":
        start = len(self.ids)
        overlay = dict(self.overlay)
        for offset, record in enumerate(records):
            overlay[start + offset] = _record_entries(record)
        return UserIndex(
            ids=np.concatenate([self.ids, [r.id for r in records]]).astype(np.int64),
            hashes=np.concatenate([self.hashes, np.array([r.hash for r in records], np.uint64)]),
            names=np.concatenate([self.names, np.array([r.username.encode() for r in records],
                                                       NAME_DTYPE)]),
            alive=np.concatenate([self.alive, np.ones(len(records), bool)]),
            indptr=np.concatenate([self.indptr, np.full(len(records), self.indptr[-1])]),
            anime_ids=self.anime_ids, scores=self.scores, updated=self.updated,
            overlay=overlay,
        )

    def compact(self) -> "UserIndex":
        """Fold the overlay into the CSR arrays and drop removed users."""
        rows = np.flatnonzero(self.alive)
        entries = self._entries_of_rows(rows.tolist())
        return UserIndex.from_arrays(
            ids=self.ids[rows], names=self.names[rows], hashes=self.hashes[rows],
            entry_user_ids=self.ids[rows][entries.owner], anime_ids=entries.anime_ids,
            scores=entries.scores, updated=entries.updated,
        )


def _record_entries(record: UserRecord):
    return (np.asarray(record.anime_ids, np.int32), np.asarray(record.scores, np.uint8),
            np.asarray(record.updated, np.int64))


def _ascending(ids: np.ndarray) -> bool:
    return bool(np.all(ids[1:] > ids[:-1])) if ids.size > 1 else True
