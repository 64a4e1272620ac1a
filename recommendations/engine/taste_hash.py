"""The 64-bit taste hash of the contract (reko-api.md, "The taste hash").

Plain Python and numpy, no Django: the hash is computed for one user on a request and
for many users at once by the demo import and the benchmark generator.

An anime's *stats* (airing decade, length, age rating, genres and themes) each map to
one of 65 counter slots. Every watched entry adds ``score + 1`` to the slots of its
anime's stats; bit ``i`` of the hash (from the most significant bit) says whether slot
``i`` outweighs slot ``i + 1``.
"""
from collections.abc import Iterable, Sequence

import numpy as np

SLOTS = 65
MAX_ENTRIES = 256
WATCHED_STATUSES = ("completed", "watching")

# stat -> slot position; stats missing here do not count.
STAT_POSITION = {
    12: 0, 7: 1, 3: 2, 16: 3, 20: 4, 41: 5, 18: 6, 13: 7, 57: 8, 4: 9, 19: 10, 21: 11,
    17: 12, 8: 13, 2: 14, 23: 15, 5: 16, 22: 17, 39: 18, 56: 19, 30: 20, 58: 21, 34: 22,
    25: 23, 44: 24, 9: 25, 14: 26, 33: 27, 52: 28, 45: 29, 47: 30, 42: 31, 54: 32, 6: 33,
    46: 34, 59: 35, 51: 36, 29: 37, 1: 38, 40: 39, 32: 40, 55: 41, 31: 42, 49: 43, 60: 44,
    81: 45, 50: 46, 61: 47, 83: 48, 53: 49, 43: 50, 10: 51, 88: 52, 77: 53, 89: 54, 68: 55,
    11: 56, 48: 57, 63: 58, 0: 59, 76: 60, 91: 61, 70: 62, 15: 63, 37: 64,
}

# MyAnimeList genre/theme id -> (stat, display name), in the contract's table order.
GENRES = {
    1: (16, "Action"), 2: (17, "Adventure"), 4: (18, "Comedy"), 8: (19, "Drama"),
    10: (20, "Fantasy"), 22: (21, "Romance"), 24: (22, "Sci-Fi"), 37: (23, "Supernatural"),
    5: (24, "Avant Garde"), 46: (25, "Award Winning"), 28: (26, "Boys Love"),
    26: (27, "Girls Love"), 47: (28, "Gourmet"), 14: (29, "Horror"), 7: (30, "Mystery"),
    36: (31, "Slice of Life"), 30: (32, "Sports"), 41: (33, "Suspense"), 9: (34, "Ecchi"),
    49: (35, "Erotica"), 12: (36, "Hentai"), 43: (37, "Josei"), 15: (38, "Kids"),
    42: (39, "Seinen"), 25: (40, "Shoujo"), 27: (41, "Shounen"), 50: (42, "Adult Cast"),
    57: (43, "Gag Humor"), 58: (44, "Gore"), 35: (45, "Harem"), 13: (46, "Historical"),
    62: (47, "Isekai"), 63: (48, "Iyashikei"), 64: (49, "Love Polygon"),
    17: (50, "Martial Arts"), 18: (51, "Mecha"), 38: (52, "Military"), 19: (53, "Music"),
    6: (54, "Mythology"), 20: (55, "Parody"), 40: (56, "Psychological"), 23: (57, "School"),
    31: (58, "Super Power"), 76: (59, "Survival"), 78: (60, "Time Travel"),
    32: (61, "Vampire"), 51: (62, "Anthropomorphic"), 52: (63, "CGDCT"),
    53: (64, "Childcare"), 54: (65, "Combat Sports"), 81: (66, "Crossdressing"),
    55: (67, "Delinquents"), 39: (68, "Detective"), 56: (69, "Educational"),
    59: (70, "High Stakes Game"), 60: (71, "Idols (Female)"), 61: (72, "Idols (Male)"),
    65: (73, "Magical Sex Shift"), 66: (74, "Mahou Shoujo"), 67: (75, "Medical"),
    68: (76, "Organized Crime"), 69: (77, "Otaku Culture"), 70: (78, "Performing Arts"),
    71: (79, "Pets"), 3: (80, "Racing"), 72: (81, "Reincarnation"), 73: (82, "Reverse Harem"),
    74: (83, "Romantic Subtext"), 21: (84, "Samurai"), 75: (85, "Showbiz"), 29: (86, "Space"),
    11: (87, "Strategy Game"), 77: (88, "Team Sports"), 79: (89, "Video Game"),
    80: (90, "Visual Arts"), 48: (91, "Workplace"),
}

RATING_STAT = {"g": 10, "pg": 11, "pg_13": 12, "r": 13, "r+": 14, "rx": 15}


def decade_stat(year: int | None) -> int | None:
    if year is None:
        return None
    if year < 1990:
        return 0
    if year < 2000:
        return 1
    if year < 2010:
        return 2
    if year < 2018:
        return 3
    return 4


def length_stat(episodes: int | None) -> int | None:
    if not episodes or episodes < 1:
        return None
    if episodes == 1:
        return 5
    if episodes <= 8:
        return 6
    if episodes <= 18:
        return 7
    if episodes <= 32:
        return 8
    return 9


def anime_stats(
    *, year: int | None, episodes: int | None, rating: str | None, genre_ids: Iterable[int]
) -> list[int]:
    """Every stat of one anime, in the contract's order (decade, length, rating, genres)."""
    stats = [decade_stat(year), length_stat(episodes), RATING_STAT.get(rating or "")]
    stats += [GENRES[g][0] for g in genre_ids if g in GENRES]
    return [s for s in stats if s is not None]


def stat_slots(stats: Iterable[int]) -> list[int]:
    """The counter slots that a list of stats feeds (stats with no position are dropped)."""
    return sorted({STAT_POSITION[s] for s in stats if s in STAT_POSITION})


def genre_names(genre_ids: Iterable[int]) -> list[str]:
    return [GENRES[g][1] for g in genre_ids if g in GENRES]


class SlotTable:
    """The slots of every catalog anime, as a CSR layout over catalog rows.

    Parameters
    ----------
    slots_per_anime : sequence of sequences of int
        ``slots_per_anime[row]`` lists the slots (0..64) of the anime at catalog ``row``.
    """

    def __init__(self, slots_per_anime: Sequence[Sequence[int]]):
        lengths = np.fromiter((len(s) for s in slots_per_anime), dtype=np.int64,
                              count=len(slots_per_anime))
        self.indptr = np.zeros(len(slots_per_anime) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.indptr[1:])
        flat = [slot for slots in slots_per_anime for slot in slots]
        self.slots = np.asarray(flat, dtype=np.int64)
        if self.slots.size and (self.slots.min() < 0 or self.slots.max() >= SLOTS):
            raise ValueError("slots must lie in 0..64")

    def __len__(self) -> int:
        return len(self.indptr) - 1


def hash_from_counters(counters: np.ndarray) -> np.ndarray:
    """Hashes from counter rows.

    Parameters
    ----------
    counters : ndarray, shape (n, 65)

    Returns
    -------
    ndarray of uint64, shape (n,)
    """
    counters = np.asarray(counters)
    if counters.ndim != 2 or counters.shape[1] != SLOTS:
        raise ValueError(f"counters must have shape (n, {SLOTS}), got {counters.shape}")
    bits = counters[:, :-1] > counters[:, 1:]
    # packbits puts bit 0 in the most significant place: exactly the contract's order.
    packed = np.packbits(bits, axis=1)
    return packed.view(">u8").reshape(-1).astype(np.uint64)


def counters_for_users(
    *, user_rows: np.ndarray, anime_rows: np.ndarray, scores: np.ndarray,
    n_users: int, table: SlotTable,
) -> np.ndarray:
    """Slot counters of many users at once.

    The entries passed must already be the ones that count (watched, in the catalog,
    the latest ``MAX_ENTRIES`` of each user: see ``latest_entries_mask``).

    Parameters
    ----------
    user_rows, anime_rows, scores : ndarray of int, shape (n_entries,)
    n_users : int
    table : SlotTable

    Returns
    -------
    ndarray of int64, shape (n_users, 65)
    """
    user_rows = np.asarray(user_rows, dtype=np.int64)
    anime_rows = np.asarray(anime_rows, dtype=np.int64)
    weights = np.asarray(scores, dtype=np.int64) + 1
    if not (user_rows.shape == anime_rows.shape == weights.shape):
        raise ValueError("user_rows, anime_rows and scores must have the same shape")
    per_entry = np.diff(table.indptr)[anime_rows]
    starts = np.repeat(table.indptr[anime_rows], per_entry)
    offsets = np.arange(per_entry.sum()) - np.repeat(np.cumsum(per_entry) - per_entry, per_entry)
    slots = table.slots[starts + offsets]
    flat = np.repeat(user_rows, per_entry) * SLOTS + slots
    totals = np.bincount(flat, weights=np.repeat(weights, per_entry), minlength=n_users * SLOTS)
    return totals.astype(np.int64).reshape(n_users, SLOTS)


def latest_entries_mask(user_rows: np.ndarray, updated: np.ndarray,
                        limit: int = MAX_ENTRIES) -> np.ndarray:
    """Which entries are among the ``limit`` most recently updated of their user.

    Ties in the update time go to the entry that comes first in the arrays.
    """
    user_rows = np.asarray(user_rows)
    order = np.lexsort((np.arange(len(user_rows)), -np.asarray(updated, dtype=np.float64),
                        user_rows))
    sorted_users = user_rows[order]
    first = np.r_[True, sorted_users[1:] != sorted_users[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    rank = np.arange(len(order)) - group_start
    mask = np.zeros(len(user_rows), dtype=bool)
    mask[order[rank < limit]] = True
    return mask


def taste_hash(slot_lists: Sequence[Sequence[int]], scores: Sequence[int]) -> int:
    """The hash of one user from the slots of their counted entries' anime and the scores.

    >>> hex(taste_hash([[0], [1]], [5, 0]))  # slot 0 = 6 > slot 1 = 1; slot 1 > slot 2 = 0
    '0xc000000000000000'
    """
    table = SlotTable(slot_lists)
    counters = counters_for_users(
        user_rows=np.zeros(len(scores), dtype=np.int64),
        anime_rows=np.arange(len(scores)), scores=np.asarray(scores), n_users=1, table=table,
    )
    return int(hash_from_counters(counters)[0])


def format_hash(value: int) -> str:
    """Lower-case hex without leading zeros, at least two digits (``5`` -> ``"05"``)."""
    return format(int(value), "02x")
