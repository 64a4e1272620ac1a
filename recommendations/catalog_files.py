"""Reading anime catalog records from files, checked in full before anything is written.

Formats: the demo catalog's CSV (``anime_id,name,genre,type,episodes,rating,members``,
where ``rating`` is the MAL mean score and ``genre`` holds old MAL genre names), and the
MyAnimeList API's anime JSON (one object, a list of them, or ``{"data": [{"node": ...}]}``).
"""
import csv
import gzip
import html
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


class CatalogFileError(ValueError):
    """A record of an import file is bad; the message names the record and the field."""


# Old MyAnimeList genre names (as in the 2016/17 data) -> MAL genre id.
OLD_GENRE_IDS = {
    "Action": 1, "Adventure": 2, "Cars": 3, "Comedy": 4, "Dementia": 5, "Demons": 6,
    "Mystery": 7, "Drama": 8, "Ecchi": 9, "Fantasy": 10, "Game": 11, "Hentai": 12,
    "Historical": 13, "Horror": 14, "Kids": 15, "Magic": 16, "Martial Arts": 17, "Mecha": 18,
    "Music": 19, "Parody": 20, "Samurai": 21, "Romance": 22, "School": 23, "Sci-Fi": 24,
    "Shoujo": 25, "Shoujo Ai": 26, "Shounen": 27, "Shounen Ai": 28, "Space": 29, "Sports": 30,
    "Super Power": 31, "Vampire": 32, "Yaoi": 33, "Yuri": 34, "Harem": 35,
    "Slice of Life": 36, "Supernatural": 37, "Military": 38, "Police": 39,
    "Psychological": 40, "Thriller": 41, "Seinen": 42, "Josei": 43,
}


@dataclass
class AnimeRecord:
    id: int
    title: str
    episodes: int | None = None
    mean: float | None = None
    media_type: str = ""
    genres: list[int] = field(default_factory=list)
    start_date: date | None = None
    rating: str | None = None
    picture: str | None = None
    airing_status: str | None = None
    # From MAL's related anime, when the record came with them (anime details, JSON import).
    parent_id: int | None = None
    relations_checked: bool = False


def open_text(path: Path | str) -> io.TextIOBase:
    """A text reader for a plain or gzip-compressed file."""
    path = Path(path)
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _int_or_none(value: str, *, where: str, name: str) -> int | None:
    value = value.strip()
    if value in ("", "Unknown"):
        return None
    try:
        number = int(value)
    except ValueError:
        raise CatalogFileError(f"{where}: field {name!r} must be a whole number, not {value!r}")
    if number < 0:
        raise CatalogFileError(f"{where}: field {name!r} must not be negative")
    return number


def parse_demo_csv(lines) -> list[AnimeRecord]:
    """Records of a catalog CSV in the demo format; ``CatalogFileError`` on the first bad one."""
    reader = csv.DictReader(lines)
    required = {"anime_id", "name", "genre", "type", "episodes", "rating"}
    missing = required - set(reader.fieldnames or [])
    if missing:
        raise CatalogFileError(f"header: missing column(s) {', '.join(sorted(missing))}")
    records, seen = [], set()
    for line_number, row in enumerate(reader, start=2):
        where = f"line {line_number}"
        anime_id = _int_or_none(row["anime_id"] or "", where=where, name="anime_id")
        if not anime_id:
            raise CatalogFileError(f"{where}: field 'anime_id' is required")
        if anime_id in seen:
            raise CatalogFileError(f"{where}: anime_id {anime_id} appears twice")
        seen.add(anime_id)
        title = html.unescape((row["name"] or "").strip())
        if not title:
            raise CatalogFileError(f"{where}: field 'name' is required")
        mean_text = (row["rating"] or "").strip()
        try:
            mean = float(mean_text) if mean_text else None
        except ValueError:
            raise CatalogFileError(f"{where}: field 'rating' must be a number, not {mean_text!r}")
        if mean is not None and not 0 <= mean <= 10:
            raise CatalogFileError(f"{where}: field 'rating' must lie between 0 and 10")
        genres = []
        for name in filter(None, (g.strip() for g in (row["genre"] or "").split(","))):
            if name not in OLD_GENRE_IDS:
                raise CatalogFileError(f"{where}: field 'genre' has unknown genre {name!r}")
            genres.append(OLD_GENRE_IDS[name])
        records.append(AnimeRecord(
            id=anime_id, title=title, mean=mean, genres=genres,
            episodes=_int_or_none(row["episodes"] or "", where=where, name="episodes") or None,
            media_type=(row["type"] or "").strip().lower(),
        ))
    return records


def parse_sequels_csv(lines) -> list[tuple[int, int]]:
    """``(parent, child)`` pairs from ``mal_id,continues_into_mal_id`` rows."""
    reader = csv.DictReader(lines)
    if not {"mal_id", "continues_into_mal_id"} <= set(reader.fieldnames or []):
        raise CatalogFileError("header: expected columns mal_id,continues_into_mal_id")
    pairs = []
    for line_number, row in enumerate(reader, start=2):
        where = f"line {line_number}"
        parent = _int_or_none(row["mal_id"] or "", where=where, name="mal_id")
        child = _int_or_none(row["continues_into_mal_id"] or "", where=where,
                             name="continues_into_mal_id")
        if not parent or not child:
            raise CatalogFileError(f"{where}: both ids are required")
        pairs.append((parent, child))
    return pairs


def record_from_mal(anime, *, parent_id: int | None = None,
                    relations_checked: bool = False) -> AnimeRecord:
    """A catalog record from the MAL client's ``MalAnime``."""
    return AnimeRecord(
        id=anime.id, title=anime.title, episodes=anime.episodes, mean=anime.mean,
        media_type=anime.media_type, genres=list(anime.genres), start_date=anime.start_date,
        rating=anime.rating, picture=anime.picture, airing_status=anime.airing_status,
        parent_id=parent_id, relations_checked=relations_checked,
    )


def parse_mal_json(text: str) -> list[AnimeRecord]:
    """Records of MAL API anime JSON; ``CatalogFileError`` naming the first bad record.

    Objects that carry ``related_anime`` also give the anime its parent (prequel, parent
    or full story) and count as relation-checked.
    """
    from users.mal_client import MalInvalidResponse, parse_anime_details

    try:
        data = json.loads(text)
    except ValueError as error:
        raise CatalogFileError(f"file: not valid JSON ({error})") from None
    if isinstance(data, dict) and "data" in data:
        items = data["data"]
        if not isinstance(items, list):
            raise CatalogFileError("file: 'data' must be a list")
        items = [item.get("node") if isinstance(item, dict) and "node" in item else item
                 for item in items]
    else:
        items = data if isinstance(data, list) else [data]
    records, seen = [], set()
    for number, item in enumerate(items, start=1):
        where = f"record {number}"
        if isinstance(item, dict) and isinstance(item.get("id"), int):
            where += f" (id {item['id']})"
        try:
            details = parse_anime_details(item)
        except MalInvalidResponse as error:
            message = str(error)
            if message.startswith("anime "):
                message = message.split(": ", 1)[1]
            raise CatalogFileError(f"{where}: {message}") from None
        if details.anime.id in seen:
            raise CatalogFileError(f"{where}: anime id {details.anime.id} appears twice")
        seen.add(details.anime.id)
        has_relations = "related_anime" in item
        records.append(record_from_mal(details.anime, parent_id=details.parent_id,
                                       relations_checked=has_relations))
    return records


def parse_catalog_file(path: Path | str) -> list[AnimeRecord]:
    """Every record of a catalog file (``.csv``/``.json``, optionally ``.gz``), checked."""
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    kind = suffixes[-1] if suffixes else ""
    with open_text(path) as f:
        if kind == ".csv":
            return parse_demo_csv(f)
        if kind == ".json":
            return parse_mal_json(f.read())
    raise CatalogFileError(f"file: {path.name} is neither .csv nor .json (optionally .gz)")
