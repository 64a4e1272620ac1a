"""Error pages and reports that never show a secret, even with ``DEBUG`` on.

Django's debug page lists the settings, the request's variables (under runserver, the
whole process environment) and every frame's local variables. The filter hides settings
and variables by name; the reporter then masks the secret values themselves wherever they
still appear, e.g. in a frame's locals deep inside the Redis client.
"""
import os
import re
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.utils.html import escape
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

MASK = SafeExceptionReporterFilter.cleansed_substitute
# Django's own list, plus what names this project's connection strings and MAL client id.
HIDDEN_NAMES = re.compile(
    "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CLIENT_ID|DATABASE|REDIS|CACHES"
    "|LOCATION|_URL$", flags=re.I)
SHORTEST_MASKED = 4  # shorter values would mask ordinary words all over the page


class SecretsHidingFilter(SafeExceptionReporterFilter):
    hidden_settings = HIDDEN_NAMES


def secret_values() -> list[str]:
    """The configured secrets as they may appear in a page: whole connection strings,
    their passwords (raw and decoded), keys and client ids."""
    values = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", []),
              getattr(settings, "MAL_CLIENT_ID", ""), getattr(settings, "REDIS_URL", ""),
              os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")]
    values += [db.get("PASSWORD") or "" for db in settings.DATABASES.values()]
    for url in list(values):
        try:
            password = urlsplit(url).password if "://" in url else None
        except ValueError:
            password = None
        if password:
            values += [password, unquote(password)]
    found = {v for v in values if isinstance(v, str) and len(v) >= SHORTEST_MASKED}
    return sorted(found, key=len, reverse=True)  # a URL before the password inside it


def mask_secrets(text: str) -> str:
    for value in secret_values():
        text = text.replace(value, MASK).replace(escape(value), MASK)
    return text


class SecretsMaskingReporter(ExceptionReporter):
    def get_traceback_html(self):
        return mask_secrets(str(super().get_traceback_html()))

    def get_traceback_text(self):
        return mask_secrets(str(super().get_traceback_text()))
