"""Small generated files in the demo's formats, with tastes to find: three groups of
anime (by genre), and users who like their own group and dislike the others."""
import csv
import gzip
import io

import numpy as np

# Action and Fantasy feed neighbouring hash counters, so their fans get different hashes.
GENRES = ["Action", "Fantasy", "Comedy"]
ANIME = 60  # ids 1-60; 60 has no mean, 4 is a sequel of 1


def write(folder, *, users: int = 45, seed: int = 7):
    """Write ``anime.csv.gz``, ``sequels.csv`` and ``demo_lists.csv.gz`` (the names
    ``load_demo --data-dir`` reads) into ``folder``; returns it."""
    rng = np.random.default_rng(seed)
    anime = io.StringIO()
    writer = csv.writer(anime)
    writer.writerow(["anime_id", "name", "genre", "type", "episodes", "rating", "members"])
    for i in range(1, ANIME + 1):
        mean = "" if i == ANIME else f"{6 + (i % 30) / 10:.2f}"
        writer.writerow([i, f"Show {i}", f"{GENRES[i % 3]}, School", "TV", 12, mean, 100])
    with gzip.open(folder / "anime.csv.gz", "wt", encoding="utf-8") as f:
        f.write(anime.getvalue())
    (folder / "sequels.csv").write_text("mal_id,continues_into_mal_id\n1,4\n", encoding="utf-8")
    lists = io.StringIO()
    writer = csv.writer(lists)
    writer.writerow(["username", "anime_id", "score", "status", "watched_episodes"])
    for n in range(users):
        group = [a for a in range(1, ANIME + 1) if a % 3 == n % 3]
        others = [a for a in range(1, ANIME + 1) if a % 3 != n % 3]
        liked = rng.choice(group, 17, replace=False)
        disliked = rng.choice(others, 10, replace=False)
        rows = [(a, rng.integers(7, 11), "completed", 12) for a in liked[:15]]
        rows += [(liked[15], 8, "watching", 3), (liked[16], 9, "watching", 0)]
        rows += [(a, rng.integers(2, 7), "completed", 12) for a in disliked[:8]]
        rows += [(a, 0, "plan_to_watch", 0) for a in disliked[8:]]
        for i in rng.permutation(len(rows)):
            a, score, status, episodes = rows[i]
            writer.writerow([f"gen_user_{n:03d}", int(a), int(score), status, episodes])
    with gzip.open(folder / "demo_lists.csv.gz", "wt", encoding="utf-8") as f:
        f.write(lists.getvalue())
    return folder
