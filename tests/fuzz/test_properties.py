"""Property tests: the hash, the distance, the paginator and username validation hold their
rules for any input hypothesis can think of, checked against plain restatements of the
contract (reko-api.md) rather than against the code's own helpers."""
import re

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rest_framework import serializers as drf_serializers

from recommendations.engine.similarity import MASK, distance, distances, name_ranks, nearest
from recommendations.engine.similarity import similarity
from recommendations.engine.taste_hash import (
    SLOTS, SlotTable, counters_for_users, format_hash, hash_from_counters, latest_entries_mask,
    taste_hash,
)
from recommendations.pagination import ClampedPagePagination
from recommendations.serializers import BatchPageQuerySerializer
from reko.exceptions import InvalidUsername
from users.services import normalize_username

U64 = st.integers(min_value=0, max_value=2**64 - 1)
slot_lists = st.lists(st.lists(st.integers(0, SLOTS - 1), max_size=6, unique=True),
                      min_size=1, max_size=40)


# --- the taste hash -------------------------------------------------------------------

def contract_hash(slot_lists, scores) -> int:
    """reko-api.md, "The taste hash", word for word: every slot of an entry's anime gets
    score + 1; bit i (from the most significant) is slot i > slot i + 1."""
    counters = [0] * SLOTS
    for slots, score in zip(slot_lists, scores):
        for slot in slots:
            counters[slot] += score + 1
    value = 0
    for i in range(SLOTS - 1):
        if counters[i] > counters[i + 1]:
            value |= 1 << (63 - i)
    return value


@given(st.data(), slot_lists)
def test_the_hash_is_the_contracts_slot_comparison(data, slots):
    scores = data.draw(st.lists(st.integers(0, 10), min_size=len(slots), max_size=len(slots)))
    assert taste_hash(slots, scores) == contract_hash(slots, scores)


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10)), min_size=1, max_size=60),
       slot_lists)
def test_hashing_many_users_at_once_equals_hashing_each_alone(entries, table_slots):
    """The batch path (index build, rehash commands) and the one-user path agree."""
    table = SlotTable(table_slots)
    users = np.array([user for user, _ in entries], dtype=np.int64)
    anime = np.array([i % len(table_slots) for i in range(len(entries))], dtype=np.int64)
    scores = np.array([score for _, score in entries], dtype=np.int64)
    together = hash_from_counters(counters_for_users(
        user_rows=users, anime_rows=anime, scores=scores, n_users=5, table=table))
    for user in range(5):
        mine = users == user
        alone = contract_hash([table_slots[a] for a in anime[mine]], scores[mine])
        assert int(together[user]) == alone


@given(U64)
def test_a_hash_is_written_as_lower_case_hex_without_leading_zeros(value):
    text = format_hash(value)
    assert int(text, 16) == value
    assert text == text.lower() and len(text) >= 2
    assert len(text) == 2 or not text.startswith("0")


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50)), max_size=80),
       st.integers(1, 10))
def test_only_the_latest_entries_of_each_user_count(entries, limit):
    users = np.array([u for u, _ in entries], dtype=np.int64)
    updated = np.array([t for _, t in entries], dtype=np.float64)
    mask = latest_entries_mask(users, updated, limit=limit)
    for user in set(users.tolist()):
        rows = [i for i in range(len(entries)) if users[i] == user]
        # Most recent first; equal times: the earlier row first.
        expected = sorted(rows, key=lambda i: (-updated[i], i))[:limit]
        assert sorted(i for i in rows if mask[i]) == sorted(expected)


# --- the distance and the similarity --------------------------------------------------

def contract_distance(a: int, b: int) -> int:
    m = int(MASK)
    return bin(a ^ b).count("1") + bin((a & m) ^ (b & m)).count("1")


@given(U64, U64, U64)
def test_the_distance_is_the_contracts_and_a_metric(a, b, c):
    d = distance(a, b)
    assert d == contract_distance(a, b)
    assert 0 <= d <= 83
    assert d == distance(b, a)
    assert (d == 0) == (a == b)
    assert distance(a, c) <= d + distance(b, c)


@given(st.lists(U64, min_size=1, max_size=50), U64)
def test_the_vector_scan_agrees_with_the_scalar_distance(hashes, target):
    scanned = distances(np.array(hashes, dtype=np.uint64), target)
    assert scanned.tolist() == [distance(h, target) for h in hashes]


@given(st.integers(0, 83), st.integers(0, 83))
def test_similarity_is_the_contracts_percentage_and_orders_like_the_distance(d1, d2):
    assert int(similarity(d1)) == 100 - (d1 * 100) // 83
    assert 0 <= int(similarity(d1)) <= 100
    if d1 < d2:
        assert similarity(d1) > similarity(d2)  # strictly: no two distances share a value


@given(st.lists(st.tuples(st.integers(0, 90), st.text("abcxyz", min_size=1, max_size=3)),
                max_size=120),
       st.integers(0, 40))
def test_nearest_is_a_sort_by_distance_then_name(rows, k):
    """Distances above 83 mark rows that are skipped (the requester, deleted users)."""
    dist = np.array([d for d, _ in rows], dtype=np.uint8)
    names = np.array([n for _, n in rows], dtype=object)
    chosen = nearest(dist, name_ranks(names.astype(str)), k).tolist()
    valid = [i for i in range(len(rows)) if rows[i][0] <= 83]
    expected = sorted(valid, key=lambda i: (rows[i][0], rows[i][1].encode(), i))[:k]
    assert chosen == expected


# --- the paginator and the query values -----------------------------------------------

@given(st.integers(1, 40), st.integers(1, 40), st.booleans())
def test_pagination_links_follow_the_contract(page, max_page, has_next):
    page = min(page, max_page)
    links = ClampedPagePagination(page=page, max_page=max_page).links(has_next=has_next)
    assert links["current"] == page
    assert links["previous"] == (page - 1 if page > 1 else None)
    assert links["next"] == (page + 1 if has_next and page < max_page else None)


integer_texts = st.builds(
    lambda sign, zeros, digits, pad: f"{pad}{sign}{'0' * zeros}{digits}{pad}",
    st.sampled_from(["", "+", "-"]), st.integers(0, 3), st.integers(0, 10**30).map(str),
    st.sampled_from(["", " ", "\t"]))


@given(integer_texts, integer_texts)
def test_any_integer_is_clamped_into_its_range(page, batch):
    query = BatchPageQuerySerializer(data={"page": page, "batch": batch})
    assert query.is_valid(), query.errors
    assert query.validated_data == {"page": max(1, min(20, int(page))),
                                    "batch": max(1, min(40, int(batch)))}


@given(st.text(max_size=40))
@example("\u0663")  # ARABIC-INDIC DIGIT THREE: a digit to Python, not to a client
@example("\uff13")  # FULLWIDTH DIGIT THREE
@example("3\n4")
@example("1e3")
@example("0x10")
@example("")
def test_anything_but_an_ascii_integer_is_invalid(text):
    query = BatchPageQuerySerializer(data={"page": text})
    is_integer = re.fullmatch(r"\s*[+-]?[0-9]+\s*", text) is not None
    assert query.is_valid() == is_integer
    if not is_integer:
        with pytest.raises(drf_serializers.ValidationError):
            query.is_valid(raise_exception=True)


# --- usernames ------------------------------------------------------------------------

valid_names = st.from_regex(r"\A[A-Za-z0-9_-]{2,16}\Z")


@given(valid_names)
def test_every_mal_style_name_is_accepted_and_stored_lower_cased(name):
    assert normalize_username(name) == name.lower()


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=40), st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
                 valid_names.map(lambda n: n + "\n"), valid_names.map(lambda n: n + "\x00")))
def test_anything_else_is_an_invalid_username(text):
    is_mal_name = (2 <= len(text) <= 16
                   and all(c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789_-" for c in text))
    if is_mal_name:
        assert normalize_username(text) == text.lower()
    else:
        with pytest.raises(InvalidUsername):
            normalize_username(text)
