"""Reading the anime list export a MyAnimeList user downloads from their profile.

The file (``.xml`` or ``.xml.gz``) looks like::

    <myanimelist>
      <myinfo><user_name>Someone</user_name>...</myinfo>
      <anime>
        <series_animedb_id>1</series_animedb_id> <my_watched_episodes>26</my_watched_episodes>
        <my_start_date>2020-01-01</my_start_date> <my_finish_date>0000-00-00</my_finish_date>
        <my_score>9</my_score> <my_status>Completed</my_status> ...
      </anime>
    </myanimelist>

Every record is checked before anything is stored; ``MalExportError`` names the first bad
one. The export has no update time per entry: an entry counts as updated on its finish
date, else its start date, else at the time of the import.
"""
import datetime as dt
import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedET

from users.models import USERNAME_RE
from users.services import EntryData

# Exports spell statuses out; some older ones use the numeric codes of the MAL site.
STATUSES = {
    "watching": "watching", "1": "watching",
    "completed": "completed", "2": "completed",
    "on-hold": "on_hold", "on hold": "on_hold", "3": "on_hold",
    "dropped": "dropped", "4": "dropped",
    "plan to watch": "plan_to_watch", "6": "plan_to_watch",
}
MAX_BYTES = 200 * 1024 * 1024


class MalExportError(ValueError):
    """The export file is unreadable or one of its records is bad."""


@dataclass(frozen=True)
class MalExport:
    username: str
    entries: list[EntryData]


def read_mal_export(path: Path | str, *, now: dt.datetime) -> MalExport:
    """Parse and check a whole MAL export file."""
    path = Path(path)
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except (OSError, EOFError) as error:
        raise MalExportError(f"file: cannot read {path.name} ({error})") from None
    if len(data) > MAX_BYTES:
        raise MalExportError("file: larger than any MAL export")
    # Exports never declare a document type. The parser refuses one in whatever encoding
    # the file is written (a check of the raw bytes missed one in UTF-16), and with it
    # entity-expansion bombs and external entities.
    try:
        root = DefusedET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise MalExportError("file: document type declarations are not allowed") from None
    except ET.ParseError as error:
        raise MalExportError(f"file: not well-formed XML ({error})") from None
    return parse_mal_export(root, now=now)


def parse_mal_export(root: ET.Element, *, now: dt.datetime) -> MalExport:
    if root.tag != "myanimelist":
        raise MalExportError("file: the root element is not <myanimelist>")
    username = (root.findtext("myinfo/user_name") or "").strip()
    if not USERNAME_RE.match(username):
        raise MalExportError("myinfo: field 'user_name' is not a MyAnimeList username")
    entries, seen = [], set()
    for number, anime in enumerate(root.iter("anime"), start=1):
        entry = _entry(anime, where=f"anime record {number}", now=now)
        if entry.anime_id in seen:
            raise MalExportError(f"anime record {number}: series_animedb_id {entry.anime_id} "
                                 "appears twice")
        seen.add(entry.anime_id)
        entries.append(entry)
    return MalExport(username=username.lower(), entries=entries)


def _entry(anime: ET.Element, *, where: str, now: dt.datetime) -> EntryData:
    anime_id = _number(anime, "series_animedb_id", where=where)
    if anime_id < 1:
        raise MalExportError(f"{where}: field 'series_animedb_id' must be positive")
    where = f"{where} (anime {anime_id})"
    status = STATUSES.get((anime.findtext("my_status") or "").strip().lower())
    if status is None:
        raise MalExportError(f"{where}: field 'my_status' is not a MyAnimeList status")
    score = _number(anime, "my_score", where=where, default=0)
    if score > 10:
        raise MalExportError(f"{where}: field 'my_score' must lie between 0 and 10")
    updated = (_date(anime, "my_finish_date", where=where)
               or _date(anime, "my_start_date", where=where) or now)
    return EntryData(anime_id=anime_id, status=status, score=score, updated_at=updated,
                     episodes_watched=_number(anime, "my_watched_episodes", where=where,
                                              default=0))


def _number(anime: ET.Element, name: str, *, where: str, default: int | None = None) -> int:
    text = (anime.findtext(name) or "").strip()
    if not text and default is not None:
        return default
    if not (text.isascii() and text.isdigit()):  # isdigit alone accepts "²"
        raise MalExportError(f"{where}: field {name!r} must be a whole number, not {text!r}")
    return int(text)


def _date(anime: ET.Element, name: str, *, where: str) -> dt.datetime | None:
    text = (anime.findtext(name) or "").strip()
    if not text or text.startswith("0000"):
        return None
    # Unknown month or day parts are written as 00.
    parts = text.split("-")
    try:
        year, month, day = (int(p) for p in parts)
        value = dt.date(year, month or 1, day or 1)
    except ValueError:
        raise MalExportError(f"{where}: field {name!r} is not a date: {text!r}") from None
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
