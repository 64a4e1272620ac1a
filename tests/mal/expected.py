"""Taste hashes and similarities worked out by hand from the contract ("The taste hash",
"Similarity"), independently of the product's code, for the lists the MAL tests build.

Only the anime fields those lists use are in the tables below (a new value is a KeyError:
add it from the contract's tables, not from the code).
"""
import datetime as dt

# Contract tables: stat -> slot, reached through the stat of each value.
RATING_SLOT = {"pg_13": 0, "r": 7}                     # stats 12, 13
EPISODES_SLOT = {12: 1, 13: 1, 25: 13}                 # 9-18 eps: stat 7; 19-32: stat 8
GENRE_SLOT = {
    1: 3,    # Action: stat 16
    4: 6,    # Comedy: stat 18
    7: 20,   # Mystery: stat 30
    8: 10,   # Drama: stat 19
    10: 4,   # Fantasy: stat 20
    22: 11,  # Romance: stat 21
    24: 17,  # Sci-Fi: stat 22
    30: 40,  # Sports: stat 32
    37: 15,  # Supernatural: stat 23
    41: 27,  # Suspense: stat 33
    62: 30,  # Isekai: stat 47
}
MAX_ENTRIES = 256
MASK = 0xE546_A060_4300_1091
MAX_DISTANCE = 83


def decade_slot(year: int) -> int:
    if 2000 <= year <= 2009:
        return 14  # stat 2
    if 2010 <= year <= 2017:
        return 2   # stat 3
    assert year >= 2018
    return 9       # stat 4


def anime_slots(anime: dict) -> set[int]:
    """The counter slots of an anime object as the fake MAL serves it."""
    year = int(anime["start_date"][:4])
    return ({decade_slot(year), EPISODES_SLOT[anime["num_episodes"]],
             RATING_SLOT[anime["rating"]]}
            | {GENRE_SLOT[g["id"]] for g in anime["genres"]})


def expected_hash(items: list[dict]) -> int:
    """The hash of a fake MAL list (every anime of it in the catalog as MAL describes it):
    the 256 latest watched entries add score + 1 to their anime's slots; bit i (from the
    top) is slot i > slot i + 1."""
    def watched(item):
        status = item["list_status"]
        return status["status"] == "completed" or (
            status["status"] == "watching" and status["num_episodes_watched"] > 0)

    def newest_first(item):
        updated = dt.datetime.fromisoformat(item["list_status"]["updated_at"])
        return (-updated.timestamp(), item["node"]["id"])

    counters = [0] * 65
    for item in sorted(filter(watched, items), key=newest_first)[:MAX_ENTRIES]:
        for slot in anime_slots(item["node"]):
            counters[slot] += item["list_status"]["score"] + 1
    bits = "".join("1" if counters[i] > counters[i + 1] else "0" for i in range(64))
    return int(bits, 2)


def expected_similarity(a: int, b: int) -> int:
    differ = a ^ b
    distance = bin(differ).count("1") + bin(differ & MASK).count("1")
    return 100 - distance * 100 // MAX_DISTANCE
