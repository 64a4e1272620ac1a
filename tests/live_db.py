"""Databases for live servers: migrated once per run (with or without the demo data) and
copied for each test, so a server starts on a fresh database in a moment.

On SQLite a template is a file and a copy is a file copy; on PostgreSQL a template is a
database next to the test database (``<test db>_live_demo``, ``<test db>_live_empty``) and
a copy is ``CREATE DATABASE ... TEMPLATE``. The server never uses the test run's own
database, so tests need no ``transaction=True``; they talk to the server over HTTP.
"""
import itertools
import shutil
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from tests.live import clean_env, manage


class LiveDatabases:
    def __init__(self, settings_dict: dict, folder: Path):
        self.settings_dict = settings_dict  # the test database's connection settings
        self.folder = folder
        self.templates: dict[bool, str] = {}  # demo? -> template file or database name
        self.copies = itertools.count(1)

    @property
    def is_postgres(self) -> bool:
        return self.settings_dict["ENGINE"] == "django.db.backends.postgresql"

    def copy(self, *, demo: bool) -> str:
        """The URL of a new database copied from the (demo or empty) template."""
        template = self.templates.get(demo) or self._make_template(demo)
        self.templates[demo] = template
        number = next(self.copies)
        if not self.is_postgres:
            path = self.folder / f"copy-{number}.sqlite3"
            shutil.copyfile(template, path)
            return f"sqlite:///{path}"
        name = f"{template}_{number}"
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        self._admin(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)))
        return self.url(name)

    def drop(self, url: str) -> None:
        if self.is_postgres:
            self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(url.rsplit("/", 1)[1])))
        else:
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)

    def drop_templates(self) -> None:
        for template in self.templates.values():
            if self.is_postgres:
                self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(template)))

    def url(self, name: str) -> str:
        s = self.settings_dict
        password = f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else ""
        return (f"postgres://{quote(s['USER'] or '', safe='')}{password}"
                f"@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}")

    def _make_template(self, demo: bool) -> str:
        kind = "demo" if demo else "empty"
        if self.is_postgres:
            template = f"{self.settings_dict['NAME']}_live_{kind}"
            self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(template)))
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
            url = self.url(template)
        else:
            template = str(self.folder / f"template-{kind}.sqlite3")
            url = f"sqlite:///{template}"
        env = clean_env(DEBUG="1", DATABASE_URL=url, DB_CONN_MAX_AGE="0")
        manage(env, "migrate", "--noinput", "-v0")
        if demo:
            manage(env, "load_demo")
        return template

    def _admin(self, statement) -> None:
        s = self.settings_dict
        with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432,
                             user=s["USER"], password=s.get("PASSWORD") or None,
                             dbname="postgres", autocommit=True) as connection:
            connection.execute(statement)
