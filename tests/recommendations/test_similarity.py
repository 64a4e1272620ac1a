"""Hash distance, similarity percentage and nearest() against brute force (no DB)."""
import numpy as np
import pytest

from recommendations.engine.similarity import (
    MASK, MAX_DISTANCE, distance, distances, name_ranks, nearest, similarity,
)

M = 0xE546A06043001091
ALL = (1 << 64) - 1


def _nearest(dist, names, k, excluded=None):
    """``nearest`` with the names themselves, and excluded rows masked as the index does."""
    if excluded is not None:
        dist = np.where(excluded, np.uint8(255), dist)
    return nearest(dist, name_ranks(names), k)


def brute_distance(a: int, b: int) -> int:
    return bin(a ^ b).count("1") + bin((a & M) ^ (b & M)).count("1")


def test_the_mask_is_the_contracts():
    assert int(MASK) == M
    # 19 mask bits: e5 46 a0 60 43 00 10 91 -> 5 + 3 + 2 + 2 + 3 + 0 + 1 + 3.
    assert bin(M).count("1") == 19


@pytest.mark.parametrize("a, b, expected", [
    (0, 0, 0),
    (0, 1, 2),           # bit 63 (value 1) is in the mask: counted twice
    (0, 2, 1),           # value 2 is not in the mask
    (0, 1 << 63, 2),     # top bit: mask starts with e = 1110
    (0, 1 << 60, 1),     # the 0 in e = 1110
    (0, ALL, 83),
    (ALL, ALL, 0),
    # a ^ b = top bit (masked: 2) + value 2 (unmasked: 1); the shared value 1 cancels.
    (0x8000_0000_0000_0001, 0x0000_0000_0000_0003, 3),
])
def test_distance_counts_differing_bits_and_masked_ones_twice(a, b, expected):
    assert distance(a, b) == expected
    assert int(distances(np.array([a], np.uint64), b)[0]) == expected


@pytest.mark.parametrize("d, expected", [
    (0, 100), (1, 99), (2, 98), (41, 51), (42, 50), (82, 2), (83, 0),
])
def test_similarity_is_100_minus_the_floored_percentage(d, expected):
    # e.g. 41 * 100 / 83 = 49.4 -> 49 -> 51; 42 * 100 / 83 = 50.6 -> 50 -> 50.
    assert int(similarity(d)) == expected


def test_similarity_never_leaves_0_to_100_and_falls_with_distance():
    values = similarity(np.arange(MAX_DISTANCE + 1))
    assert values[0] == 100 and values[-1] == 0
    assert np.all(np.diff(values) < 0)


def test_distances_match_brute_force_on_random_hashes():
    rng = np.random.default_rng(1)
    hashes = rng.integers(0, 2**64, size=300, dtype=np.uint64)
    for target in [int(h) for h in hashes[:5]] + [0, ALL, 1 << 63]:
        got = distances(hashes, target)
        assert got.tolist() == [brute_distance(int(h), target) for h in hashes]


def test_distances_reject_signed_hashes():
    with pytest.raises(ValueError):
        distances(np.array([1, 2], dtype=np.int64), 0)


def _brute_nearest(dist, names, k, excluded):
    rows = [i for i in range(len(dist)) if not excluded[i]]
    rows.sort(key=lambda i: (int(dist[i]), names[i]))
    return rows[:k]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 5, 32, 500])
def test_nearest_matches_brute_force_with_ties_by_name(seed, k):
    rng = np.random.default_rng(seed)
    n = 200
    # Few distinct hashes so that many users tie on distance.
    hashes = rng.choice(rng.integers(0, 2**64, size=8, dtype=np.uint64), size=n)
    names = np.array([f"u{v:05d}".encode() for v in rng.permutation(n)], dtype="S16")
    excluded = rng.random(n) < 0.1
    target = int(rng.integers(0, 2**64, dtype=np.uint64))
    dist = distances(hashes, target)
    got = _nearest(dist, names, k, excluded=excluded)
    assert got.tolist() == _brute_nearest(dist, names, k, excluded)


def test_nearest_breaks_ties_by_username_ascending():
    dist = np.array([3, 1, 1, 1, 0], dtype=np.uint8)
    names = np.array([b"aa", b"zz", b"mm", b"ab", b"yy"], dtype="S16")
    # 0 first, then the three at 1 by name: ab, mm, zz.
    assert _nearest(dist, names, 4).tolist() == [4, 3, 2, 1]


def test_nearest_returns_nothing_when_all_are_excluded_or_k_is_zero():
    dist = np.array([1, 2], dtype=np.uint8)
    names = np.array([b"a1", b"a2"], dtype="S16")
    assert _nearest(dist, names, 0).tolist() == []
    assert _nearest(dist, names, 3, excluded=np.array([True, True])).tolist() == []


def test_nearest_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        nearest(np.zeros(3, np.uint8), np.zeros(2, np.int64), 1)


def test_nearest_orders_tied_names_as_strings_whatever_their_length():
    names_list = ["ab", "ab-", "ab_", "a-", "a_", "a0", "aa", "b", "abcdefghijklmnop",
                  "abcdefghijklmno", "abcdefgh", "abcdefgh0", "abcdefgg_zzzzzzz"]
    names = np.array([n.encode() for n in names_list], dtype="S16")
    dist = np.zeros(len(names), dtype=np.uint8)
    got = [names_list[i] for i in _nearest(dist, names, len(names)).tolist()]
    assert got == sorted(names_list)


@pytest.mark.parametrize("k", [1, 3, 40])
def test_nearest_with_many_ties_on_a_long_shared_prefix(k):
    rng = np.random.default_rng(k)
    n = 300
    names = np.array([f"demo_user_{i:03d}".encode() for i in rng.permutation(n)], dtype="S16")
    dist = rng.choice(np.array([3, 4], dtype=np.uint8), size=n)
    excluded = np.zeros(n, dtype=bool)
    got = _nearest(dist, names, k)
    assert got.tolist() == _brute_nearest(dist, names, k, excluded)
