"""The taste hash (reko-api.md, "The taste hash"), with hand-computed golden values.

Reminders used in the comments below (from the contract's tables):
stat -> slot: pg_13 (12) -> 0, 9-18 eps (7) -> 1, 2010-2017 (3) -> 2, Action (16) -> 3,
2018+ (4) -> 9, 19-32 eps (8) -> 13, 2000-2009 (2) -> 14, 1 ep (5) -> 16, 33+ eps (9) -> 25,
r+ (14) -> 26, 2-8 eps (6) -> 33, 1990-1999 (1) -> 38, g (10) -> 51, pg (11) -> 56,
before 1990 (0) -> 59, Workplace (91) -> 61, rx (15) -> 63, Josei (37) -> 64, r (13) -> 7.
Bit i (from the top) is slot i > slot i + 1, so one lone slot p (0 < p < 64) gives
exactly bit p, i.e. the value 1 << (63 - p).
"""
import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from recommendations.engine.taste_hash import (
    SLOTS, anime_stats, decade_stat, format_hash, hash_from_counters, latest_entries_mask,
    length_stat, stat_slots, taste_hash,
)
from reko.exceptions import EmptyUserList, HashFailed
from tests.factories import AnimeFactory, ListEntryFactory, MalUserFactory
from users.models import ListEntry
from users.services import hashes_for_users, mal_user_rehash, user_hash


def slots(*, year=None, episodes=None, rating=None, genres=()):
    return stat_slots(anime_stats(year=year, episodes=episodes, rating=rating, genre_ids=genres))


def test_it_sets_the_top_bit_when_slot_0_outweighs_slot_1():
    # A: pg_13 (slot 0), scored 10 -> slot 0 += 11.
    # B: 12 eps (slot 1) from 2015 (slot 2), scored 4 -> slots 1 and 2 += 5.
    # Counters 11, 5, 5, 0...: bit 0 (11 > 5) = 1, bit 1 (5 > 5) = 0, bit 2 (5 > 0) = 1.
    a = slots(rating="pg_13")
    b = slots(year=2015, episodes=12)
    assert a == [0] and b == [1, 2]
    value = taste_hash([a, b], [10, 4])
    assert value == 0xA000_0000_0000_0000
    assert format_hash(value) == "a000000000000000"


def test_it_writes_a_hash_with_leading_zero_nibbles_without_padding():
    # One film (1 ep, slot 16) rated rx (slot 63), scored 3: slots 16 and 63 hold 4.
    # bit 16 (4 > 0) -> 1 << 47, bit 63 (4 > slot 64 = 0) -> 1; bit 15 and 62 are 0 > 4.
    value = taste_hash([slots(episodes=1, rating="rx")], [3])
    assert value == (1 << 47) | 1
    assert format_hash(value) == "800000000001"


def test_it_writes_at_least_two_hex_digits():
    # rx (slot 63) + Workplace (genre 48 -> slot 61): bit 61 (w > slot 62 = 0) -> 1 << 2,
    # bit 62 (0 > w) no, bit 63 (w > 0) -> 1: 0b101 = 5.
    value = taste_hash([slots(rating="rx", genres=[48])], [0])
    assert value == 5
    assert format_hash(value) == "05"
    assert format_hash(0x3F) == "3f"
    assert format_hash(0x3FF) == "3ff"


@pytest.mark.parametrize("year, stat", [
    (1989, 0), (1990, 1), (1999, 1), (2000, 2), (2009, 2), (2010, 3), (2017, 3), (2018, 4),
    (2024, 4), (None, None),
])
def test_it_puts_the_start_year_in_its_decade_stat(year, stat):
    assert decade_stat(year) == stat


@pytest.mark.parametrize("year, expected", [
    (1989, 1 << 4),   # stat 0 -> slot 59
    (1990, 1 << 25),  # stat 1 -> slot 38
    (2017, 1 << 61),  # stat 3 -> slot 2
    (2018, 1 << 54),  # stat 4 -> slot 9
])
def test_the_decade_boundaries_move_the_hash_bit(year, expected):
    assert taste_hash([slots(year=year)], [0]) == expected


@pytest.mark.parametrize("episodes, stat", [
    (1, 5), (2, 6), (8, 6), (9, 7), (18, 7), (19, 8), (32, 8), (33, 9), (500, 9),
    (0, None), (None, None),
])
def test_it_puts_the_episode_count_in_its_length_stat(episodes, stat):
    assert length_stat(episodes) == stat


@pytest.mark.parametrize("episodes, expected", [
    (1, 1 << 47),   # stat 5 -> slot 16
    (2, 1 << 30),   # stat 6 -> slot 33
    (8, 1 << 30),
    (9, 1 << 62),   # stat 7 -> slot 1
    (18, 1 << 62),
    (19, 1 << 50),  # stat 8 -> slot 13
    (32, 1 << 50),
    (33, 1 << 38),  # stat 9 -> slot 25
])
def test_the_episode_boundaries_move_the_hash_bit(episodes, expected):
    assert taste_hash([slots(episodes=episodes)], [5]) == expected


@pytest.mark.parametrize("rating, slot", [
    ("g", 51), ("pg", 56), ("pg_13", 0), ("r", 7), ("r+", 26), ("rx", 63), (None, None),
])
def test_it_maps_each_age_rating_to_its_slot(rating, slot):
    assert slots(rating=rating) == ([] if slot is None else [slot])


def test_genres_map_through_their_stat_and_unpositioned_stats_are_ignored():
    # Action (1) -> stat 16 -> slot 3; Josei (43) -> stat 37 -> slot 64;
    # Avant Garde (5) -> stat 24 and Boys Love (28) -> stat 26 have no slot; 9999 is no genre.
    assert slots(genres=[1, 43, 5, 28, 9999]) == [3, 64]


def test_a_stat_in_the_last_slot_alone_gives_a_zero_hash():
    # Slot 64 only ever sits on the right of a comparison: bit 63 is slot 63 (0) > slot 64.
    assert taste_hash([slots(genres=[43])], [9]) == 0


def test_an_all_unscored_list_counts_one_per_entry():
    # Three unscored entries add 1 each: A pg_13 (slot 0); B and C 12 eps (slot 1).
    # Counters 1, 2: bit 0 (1 > 2) = 0, bit 1 (2 > 0) = 1 -> 0x4000...
    value = taste_hash([slots(rating="pg_13"), slots(episodes=12), slots(episodes=12)],
                       [0, 0, 0])
    assert value == 0x4000_0000_0000_0000


def test_a_score_adds_score_plus_one():
    # Same list, A scored 2: slot 0 = 3 > slot 1 = 2 -> bits 0 and 1.
    value = taste_hash([slots(rating="pg_13"), slots(episodes=12), slots(episodes=12)],
                       [2, 0, 0])
    assert value == 0xC000_0000_0000_0000


def test_hash_from_counters_reads_bits_from_the_most_significant_end():
    counters = np.zeros((3, SLOTS), dtype=np.int64)
    counters[0, 0] = 1            # bit 0 only
    counters[1, 63] = 1           # bit 63 only
    counters[2, ::2] = 1          # slots 0, 2, ..., 64: every even bit
    hashes = hash_from_counters(counters)
    assert hashes.dtype == np.uint64
    assert hashes.tolist() == [1 << 63, 1, 0xAAAA_AAAA_AAAA_AAAA]


def test_hash_from_counters_rejects_a_wrong_shape():
    with pytest.raises(ValueError):
        hash_from_counters(np.zeros((1, 64)))


def test_latest_entries_mask_keeps_the_latest_of_each_user():
    users = np.array([0, 0, 0, 1, 1, 0])
    updated = np.array([10, 40, 30, 5, 1, 20])
    # user 0's latest two: updated 40 (index 1) and 30 (index 2); user 1 has only two.
    assert latest_entries_mask(users, updated, limit=2).tolist() == [
        False, True, True, True, True, False]


# The same rules through the stored list (users.services.user_hash).

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _film(anime_id, **fields):
    defaults = {"episodes": None, "rating": None, "start_date": None, "genres": []}
    return AnimeFactory(id=anime_id, **{**defaults, **fields})


@pytest.mark.django_db
def test_user_hash_counts_only_the_256_latest_watched_entries():
    user = MalUserFactory(hash=None)
    pg13 = [_film(1000 + i, rating="pg_13") for i in range(256)]
    old_g = _film(999, rating="g")  # g -> slot 51
    for i, anime in enumerate(pg13):
        ListEntryFactory(user=user, anime=anime, score=5, updated_at=NOW - dt.timedelta(days=i))
    entry = ListEntryFactory(user=user, anime=old_g, score=10,
                             updated_at=NOW - dt.timedelta(days=400))
    # The g entry is the 257th latest: only slot 0 counts -> top bit alone.
    assert user_hash(user) == 1 << 63
    # Made the latest, it counts and the oldest pg_13 drops out: bit 51 (slot 51 > 0) joins.
    entry.updated_at = NOW + dt.timedelta(days=1)
    entry.save()
    assert user_hash(user) == (1 << 63) | (1 << 12)


@pytest.mark.django_db
def test_user_hash_ignores_unwatched_entries_and_anime_outside_the_catalog():
    user = MalUserFactory(hash=None)
    ListEntryFactory(user=user, anime=_film(1, rating="pg_13"), score=3)
    for i, (status, episodes, rating) in enumerate([
        (ListEntry.Status.PLAN_TO_WATCH, 0, "g"), (ListEntry.Status.WATCHING, 0, "pg"),
        (ListEntry.Status.DROPPED, 3, "r"), (ListEntry.Status.ON_HOLD, 3, "r+"),
    ]):
        anime = _film(10 + i, rating=rating)
        ListEntryFactory(user=user, anime=anime, status=status, episodes_watched=episodes)
    # An entry of an anime the catalog does not know.
    ListEntry.objects.create(user=user, anime_id=424242, status="completed", score=9,
                             updated_at=timezone.now())
    assert user_hash(user) == 1 << 63


@pytest.mark.django_db
def test_user_hash_counts_watching_with_an_episode_seen():
    user = MalUserFactory(hash=None)
    ListEntryFactory(user=user, anime=_film(1, rating="rx"), status="watching",
                     episodes_watched=1, score=0)
    assert user_hash(user) == 1  # slot 63 = 1 > slot 64


@pytest.mark.django_db
def test_a_list_of_only_plan_to_watch_entries_has_no_hash():
    user = MalUserFactory(hash=None)
    for i in range(3):
        ListEntryFactory(user=user, anime=_film(i + 1, rating="pg_13"), status="plan_to_watch",
                         score=0, episodes_watched=0)
    with pytest.raises(EmptyUserList):
        user_hash(user)
    with pytest.raises(EmptyUserList):
        mal_user_rehash(user=user)
    assert hashes_for_users([user.id]) == {user.id: None}


@pytest.mark.django_db
def test_a_list_whose_hash_is_zero_fails():
    user = MalUserFactory(hash=None)
    ListEntryFactory(user=user, anime=_film(1, genres=[5]))  # Avant Garde: no slot
    with pytest.raises(HashFailed):
        user_hash(user)


@pytest.mark.django_db
def test_hashes_for_users_agrees_with_user_hash():
    rng = np.random.default_rng(7)
    catalog = [
        _film(i + 1, rating=str(rng.choice(["g", "pg", "pg_13", "r", "r+", "rx"])),
              episodes=int(rng.integers(1, 60)),
              start_date=dt.date(int(rng.integers(1980, 2025)), 1, 1),
              genres=rng.choice([1, 2, 4, 8, 10, 22, 24, 37, 43, 48], 3, replace=False).tolist())
        for i in range(40)
    ]
    users = [MalUserFactory(hash=None) for _ in range(5)]
    for user in users:
        for anime in rng.choice(catalog, 15, replace=False):
            ListEntryFactory(user=user, anime=anime, score=int(rng.integers(0, 11)),
                             updated_at=NOW - dt.timedelta(hours=int(rng.integers(0, 1000))))
    batch = hashes_for_users([u.id for u in users])
    assert batch == {u.id: user_hash(u) for u in users}
