"""Row counts and checksums of the stored users and list entries, read straight from
PostgreSQL, to show that a run lost or changed nothing that was stored before it."""
import hashlib

import psycopg

USERS_SQL = "SELECT username, hash FROM users_maluser ORDER BY username"
ENTRIES_SQL = """
    SELECT u.username, e.anime_id, e.status, e.score, e.episodes_watched, e.updated_at
    FROM users_listentry e JOIN users_maluser u ON u.id = e.user_id
    ORDER BY u.username, e.anime_id
"""


def _url(database_url: str) -> str:
    return database_url.replace("postgres://", "postgresql://", 1)


def snapshot(database_url: str, usernames: set[str] | None = None) -> dict:
    """Counts and SHA-256 of (username, hash) and of every entry, limited to ``usernames``
    when given (users stored before the run; new ones may have joined since)."""
    with psycopg.connect(_url(database_url), connect_timeout=10) as connection:
        users = connection.execute(USERS_SQL).fetchall()
        entries = connection.execute(ENTRIES_SQL).fetchall()
    if usernames is not None:
        users = [u for u in users if u[0] in usernames]
        entries = [e for e in entries if e[0] in usernames]
    return {
        "users": len(users),
        "entries": len(entries),
        "users_sha256": hashlib.sha256(repr(users).encode()).hexdigest(),
        "entries_sha256": hashlib.sha256(repr(entries).encode()).hexdigest(),
        "usernames": {u[0] for u in users},
    }


def entry_counts(database_url: str, usernames: set[str]) -> dict[str, int]:
    """How many entries each of ``usernames`` has stored (absent users: missing)."""
    with psycopg.connect(_url(database_url), connect_timeout=10) as connection:
        rows = connection.execute(
            "SELECT u.username, count(e.id) FROM users_maluser u "
            "LEFT JOIN users_listentry e ON e.user_id = u.id "
            "WHERE u.username = ANY(%s) GROUP BY u.username", [sorted(usernames)]).fetchall()
    return dict(rows)
