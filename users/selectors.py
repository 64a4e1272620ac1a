"""Reads of MAL users on the request path."""
from users.models import MalUser


def mal_user_by_name(name: str) -> MalUser | None:
    """The stored user with this (normalised) name, or None.

    Raw SQL on the unique index: every API request looks up one or two users, and
    compiling the equivalent ORM query took longer than running it.
    """
    table = MalUser._meta.db_table
    rows = list(MalUser.objects.raw(f"SELECT * FROM {table} WHERE username = %s", [name]))
    return rows[0] if rows else None
