"""The taste-hash tables, checked against the contract's text (reko-api.md, copied here
verbatim) rather than against the code's own transcription."""
import re

from recommendations.engine.taste_hash import GENRES, RATING_STAT, SLOTS, STAT_POSITION

CONTRACT_POSITIONS = """
12→0, 7→1, 3→2, 16→3, 20→4, 41→5, 18→6,
13→7, 57→8, 4→9, 19→10, 21→11, 17→12, 8→13, 2→14, 23→15, 5→16, 22→17, 39→18, 56→19,
30→20, 58→21, 34→22, 25→23, 44→24, 9→25, 14→26, 33→27, 52→28, 45→29, 47→30, 42→31,
54→32, 6→33, 46→34, 59→35, 51→36, 29→37, 1→38, 40→39, 32→40, 55→41, 31→42, 49→43,
60→44, 81→45, 50→46, 61→47, 83→48, 53→49, 43→50, 10→51, 88→52, 77→53, 89→54, 68→55,
11→56, 48→57, 63→58, 0→59, 76→60, 91→61, 70→62, 15→63, 37→64
"""

CONTRACT_GENRES = """
16: 1 Action · 17: 2 Adventure · 18: 4 Comedy · 19: 8 Drama · 20: 10 Fantasy ·
21: 22 Romance · 22: 24 Sci-Fi · 23: 37 Supernatural · 24: 5 Avant Garde ·
25: 46 Award Winning · 26: 28 Boys Love · 27: 26 Girls Love · 28: 47 Gourmet ·
29: 14 Horror · 30: 7 Mystery · 31: 36 Slice of Life · 32: 30 Sports · 33: 41 Suspense ·
34: 9 Ecchi · 35: 49 Erotica · 36: 12 Hentai · 37: 43 Josei · 38: 15 Kids · 39: 42 Seinen ·
40: 25 Shoujo · 41: 27 Shounen · 42: 50 Adult Cast · 43: 57 Gag Humor · 44: 58 Gore ·
45: 35 Harem · 46: 13 Historical · 47: 62 Isekai · 48: 63 Iyashikei · 49: 64 Love Polygon ·
50: 17 Martial Arts · 51: 18 Mecha · 52: 38 Military · 53: 19 Music · 54: 6 Mythology ·
55: 20 Parody · 56: 40 Psychological · 57: 23 School · 58: 31 Super Power · 59: 76 Survival ·
60: 78 Time Travel · 61: 32 Vampire · 62: 51 Anthropomorphic · 63: 52 CGDCT ·
64: 53 Childcare · 65: 54 Combat Sports · 66: 81 Crossdressing · 67: 55 Delinquents ·
68: 39 Detective · 69: 56 Educational · 70: 59 High Stakes Game · 71: 60 Idols (Female) ·
72: 61 Idols (Male) · 73: 65 Magical Sex Shift · 74: 66 Mahou Shoujo · 75: 67 Medical ·
76: 68 Organized Crime · 77: 69 Otaku Culture · 78: 70 Performing Arts · 79: 71 Pets ·
80: 3 Racing · 81: 72 Reincarnation · 82: 73 Reverse Harem · 83: 74 Romantic Subtext ·
84: 21 Samurai · 85: 75 Showbiz · 86: 29 Space · 87: 11 Strategy Game · 88: 77 Team Sports ·
89: 79 Video Game · 90: 80 Visual Arts · 91: 48 Workplace.
"""


def _positions():
    pairs = re.findall(r"(\d+)→(\d+)", CONTRACT_POSITIONS)
    return {int(stat): int(position) for stat, position in pairs}


def _genres():
    rows = re.findall(r"(\d+): (\d+) ([^·]+?)\s*(?:·|$)", CONTRACT_GENRES.strip(), re.M)
    return {int(genre): (int(stat), name.strip().rstrip(".")) for stat, genre, name in rows}


def test_the_stat_positions_are_the_contracts():
    expected = _positions()
    assert len(expected) == SLOTS
    assert sorted(expected.values()) == list(range(SLOTS))
    assert STAT_POSITION == expected


def test_the_genre_table_is_the_contracts():
    expected = _genres()
    assert len(expected) == 76  # stats 16..91
    assert sorted(stat for stat, _ in expected.values()) == list(range(16, 92))
    assert GENRES == expected


def test_the_rating_stats_are_the_contracts():
    assert RATING_STAT == {"g": 10, "pg": 11, "pg_13": 12, "r": 13, "r+": 14, "rx": 15}
