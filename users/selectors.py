"""Reads of MAL users on the request path."""
from django.db import connection

from reko.raw_rows import instance_from_row, select_columns
from users.models import MalUser


def mal_user_by_name(name: str) -> MalUser | None:
    """The stored user with this (normalised) name, or None.

    Plain SQL on the unique index: every API request looks up one or two users, and
    compiling the equivalent ORM query took longer than running it.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select_columns(MalUser)} FROM {MalUser._meta.db_table} "
                       "WHERE username = %s", [name])
        row = cursor.fetchone()
    return None if row is None else instance_from_row(MalUser, row)
