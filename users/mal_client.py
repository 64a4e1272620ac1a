"""The only module that talks HTTP to MyAnimeList (API v2).

One function per endpoint; each returns small typed objects and turns upstream failures
into a ``MalError`` subclass. Every request goes through ``_get``, which

* sends ``X-MAL-CLIENT-ID`` and explicit connect/read timeouts (``MAL_*_TIMEOUT``);
* first takes a slot of the deployment-wide request budget (``MAL_REQUESTS_PER_SECOND``),
  held in the Django cache so that every thread, worker and management command shares it
  (Redis in production; the local-memory cache only covers one process);
* retries connection errors, timeouts, 429, 500, 502, 503 and 504 at most
  ``MAL_MAX_RETRIES`` times with exponential backoff, honouring ``Retry-After``.

API reference: https://myanimelist.net/apiconfig/references/api/v2
"""
from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache

from reko import metrics, shared_cache

logger = logging.getLogger(__name__)

LIST_PAGE_SIZE = 1000  # the largest page MAL serves for a user's list
ANIME_FIELDS = ("genres", "num_episodes", "start_date", "rating", "mean", "status",
                "main_picture", "media_type")
PARENT_RELATIONS = ("parent_story", "full_story", "prequel")  # in order of preference
LIST_STATUSES = ("watching", "completed", "on_hold", "dropped", "plan_to_watch")
RATINGS = ("g", "pg", "pg_13", "r", "r+", "rx")
AIRING_STATUSES = ("finished_airing", "currently_airing", "not_yet_aired")
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Outcome labels of the calls metric by HTTP status (any other status: "http_error";
# no answer: "timeout" or "connection_error").
CALL_OUTCOMES = {200: "ok", 403: "forbidden", 404: "not_found", 429: "throttled",
                 500: "server_error", 502: "server_error", 503: "server_error",
                 504: "server_error"}
# A longer Retry-After from MAL is not believed (nor passed on to clients as it is).
RETRY_AFTER_MAX_SECONDS = 3600
# Per rate, so that processes configured differently during a rollout cannot misread slots.
BUDGET_KEY = "mal:budget:{}:slot:{}"
BUDGET_HINT_KEY = "mal:budget:{}:next"


class MalError(Exception):
    """Base of every failure talking to MAL; ``retry_after`` in seconds when known."""

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class MalNotConfigured(MalError):
    """``MAL_CLIENT_ID`` is empty: nothing can be fetched."""


class MalUserNotFound(MalError):
    """404: no such user (or anime)."""


class MalForbidden(MalError):
    """403: the user's list is private."""


class MalRateLimited(MalError):
    """MAL kept answering 429, or our own request budget is queued too deep."""


class MalUnavailable(MalError):
    """MAL is down, timing out or answering 5xx (after the retries), or refuses our client."""


class MalInvalidResponse(MalError):
    """MAL answered 200 with JSON that does not have the documented shape."""


@dataclass(frozen=True)
class MalAnime:
    id: int
    title: str
    start_date: dt.date | None = None
    episodes: int | None = None
    mean: float | None = None
    rating: str | None = None
    picture: str | None = None
    airing_status: str | None = None
    media_type: str = ""
    genres: tuple[int, ...] = ()


@dataclass(frozen=True)
class MalListEntry:
    anime: MalAnime
    status: str
    score: int
    episodes_watched: int
    updated_at: dt.datetime


@dataclass(frozen=True)
class MalAnimeDetails:
    anime: MalAnime
    related: tuple[tuple[int, str], ...] = field(default=())  # (anime id, relation_type)

    @property
    def parent_id(self) -> int | None:
        """The parent by MAL's relations: parent story, full story, else the prequel."""
        for relation in PARENT_RELATIONS:
            ids = sorted(i for i, kind in self.related if kind == relation and i != self.anime.id)
            if ids:
                return ids[0]
        return None


NOT_CONFIGURED = ("MyAnimeList access is not configured: set MAL_CLIENT_ID to a MyAnimeList "
                  "API client id (https://myanimelist.net/apiconfig).")


def configured() -> bool:
    """Whether MAL can be called at all (``MAL_CLIENT_ID`` is set)."""
    return bool(settings.MAL_CLIENT_ID)


# --- endpoints -------------------------------------------------------------------------

def user_animelist(username: str, *, updated_since: dt.datetime | None = None
                   ) -> list[MalListEntry]:
    """A user's anime list, most recently updated first, following ``paging.next``.

    With ``updated_since``, only entries updated at or after it are returned and paging
    stops at the first page that reaches older entries (incremental refresh).
    https://myanimelist.net/apiconfig/references/api/v2#operation/users_user_id_animelist_get
    """
    body = _get(f"/users/{username}/animelist", params={
        "fields": "list_status," + ",".join(ANIME_FIELDS), "sort": "list_updated_at",
        "limit": LIST_PAGE_SIZE, "nsfw": 1,
    })
    entries: dict[int, MalListEntry] = {}
    for number in itertools.count(1):
        page = [_list_entry(item) for item in _items(body)]
        fresh = [e for e in page if updated_since is None or e.updated_at >= updated_since]
        for entry in fresh:
            # An entry the user updates while we page moves to the front and may come twice.
            entries.setdefault(entry.anime.id, entry)
        next_url = _next_url(body)
        if not next_url or len(fresh) < len(page):
            break
        if number >= settings.MAL_MAX_LIST_PAGES:
            # Bounds the MAL calls of one request (a list that never ends, a paging loop);
            # the most recently updated entries, read first, are the ones the hash uses.
            logger.warning("%s: stopped reading the list after %d pages", username, number)
            break
        body = _get(next_url)
    return list(entries.values())


def anime_details(anime_id: int) -> MalAnimeDetails:
    """One anime with the catalog's fields and its related anime.

    https://myanimelist.net/apiconfig/references/api/v2#operation/anime_anime_id_get
    """
    body = _get(f"/anime/{int(anime_id)}",
                params={"fields": ",".join(ANIME_FIELDS + ("related_anime",)), "nsfw": 1})
    return parse_anime_details(body)


# --- parsing (also used by the JSON catalog import) -------------------------------------

def parse_anime_details(data) -> MalAnimeDetails:
    """An anime object of the API (``/anime/{id}`` or a list node); ``MalInvalidResponse``."""
    anime = parse_anime(data)
    related = []
    for item in _as_list(data.get("related_anime", []), "related_anime"):
        node = item.get("node") if isinstance(item, dict) else None
        kind = item.get("relation_type") if isinstance(item, dict) else None
        if not isinstance(node, dict) or not isinstance(kind, str):
            raise MalInvalidResponse(f"anime {anime.id}: field 'related_anime' is malformed")
        related.append((_int(node.get("id"), "related_anime.node.id", minimum=1), kind))
    return MalAnimeDetails(anime=anime, related=tuple(related))


def parse_anime(data) -> MalAnime:
    if not isinstance(data, dict):
        raise MalInvalidResponse("an anime is not a JSON object")
    anime_id = _int(data.get("id"), "id", minimum=1)
    try:
        return _anime(data, anime_id)
    except MalInvalidResponse as error:
        raise MalInvalidResponse(f"anime {anime_id}: {error}") from None


def _anime(data: dict, anime_id: int) -> MalAnime:
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise MalInvalidResponse("field 'title' is required")
    rating = data.get("rating")
    if rating not in (None, *RATINGS):
        raise MalInvalidResponse(f"field 'rating' must be one of {', '.join(RATINGS)}")
    airing = data.get("status")
    if airing not in (None, *AIRING_STATUSES):
        raise MalInvalidResponse(f"field 'status' must be one of {', '.join(AIRING_STATUSES)}")
    mean = data.get("mean")
    if mean is not None and (isinstance(mean, bool) or not isinstance(mean, (int, float))
                             or not 0 <= mean <= 10):
        raise MalInvalidResponse("field 'mean' must be a number from 0 to 10")
    picture = data.get("main_picture") or {}
    if not isinstance(picture, dict):
        raise MalInvalidResponse("field 'main_picture' must be an object")
    genres = []
    for genre in _as_list(data.get("genres", []), "genres"):
        genres.append(_int(genre.get("id") if isinstance(genre, dict) else None, "genres.id"))
    media_type = data.get("media_type") or ""
    if not isinstance(media_type, str):
        raise MalInvalidResponse("field 'media_type' must be a string")
    episodes = data.get("num_episodes")
    episodes = None if episodes is None else _int(episodes, "num_episodes") or None  # 0: unknown
    return MalAnime(
        id=anime_id, title=title.strip()[:255], start_date=parse_start_date(data.get("start_date")),
        episodes=episodes,
        mean=None if mean is None else float(mean), rating=rating,
        picture=_url(picture.get("medium") or picture.get("large")),
        airing_status=airing, media_type=media_type[:16], genres=tuple(genres),
    )


def _url(value) -> str | None:
    # The catalog keeps URLs up to 255 characters; a cut one would be broken.
    return value if isinstance(value, str) and value.startswith("http") and len(value) <= 255 \
        else None


def parse_start_date(value) -> dt.date | None:
    """MAL's ``start_date``: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (missing parts are 1)."""
    if value in (None, ""):
        return None
    parts = value.split("-") if isinstance(value, str) else []
    try:
        if not 1 <= len(parts) <= 3 or len(parts[0]) != 4:
            raise ValueError
        numbers = [int(p) for p in parts] + [1] * (3 - len(parts))
        return dt.date(*numbers)
    except ValueError:
        raise MalInvalidResponse(f"field 'start_date' is not a date: {value!r}") from None


def _list_entry(item) -> MalListEntry:
    if not isinstance(item, dict):
        raise MalInvalidResponse("a list item is not a JSON object")
    anime = parse_anime(item.get("node"))
    status = item.get("list_status")
    if not isinstance(status, dict):
        raise MalInvalidResponse(f"anime {anime.id}: field 'list_status' is missing")
    if status.get("status") not in LIST_STATUSES:
        raise MalInvalidResponse(f"anime {anime.id}: field 'list_status.status' is unknown")
    score = _int(status.get("score", 0), "list_status.score")
    if score > 10:
        raise MalInvalidResponse(f"anime {anime.id}: field 'list_status.score' is above 10")
    try:
        updated = dt.datetime.fromisoformat(status["updated_at"])
    except (KeyError, TypeError, ValueError):
        raise MalInvalidResponse(f"anime {anime.id}: field 'list_status.updated_at' is not a "
                                 "date and time") from None
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=dt.timezone.utc)
    return MalListEntry(
        anime=anime, status=status["status"], score=score,
        episodes_watched=_int(status.get("num_episodes_watched", 0), "num_episodes_watched"),
        updated_at=updated,
    )


def _int(value, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise MalInvalidResponse(f"field {name!r} must be a whole number of at least {minimum}")
    return value


def _as_list(value, name: str) -> list:
    if not isinstance(value, list):
        raise MalInvalidResponse(f"field {name!r} must be a list")
    return value


def _items(body) -> list:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise MalInvalidResponse("the response has no 'data' list")
    return data


def _next_url(body: dict) -> str | None:
    paging = body.get("paging") or {}
    next_url = paging.get("next") if isinstance(paging, dict) else None
    if not next_url:
        return None
    base = urlsplit(settings.MAL_API_URL)
    target = urlsplit(next_url)
    # Never send our client id anywhere but MAL's API.
    if (target.scheme, target.netloc) != (base.scheme, base.netloc):
        raise MalInvalidResponse(f"paging.next points outside the MAL API: {next_url}")
    return next_url


# --- transport --------------------------------------------------------------------------

_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _get(path_or_url: str, *, params: dict | None = None):
    """GET a MAL path (or a ``paging.next`` URL) as JSON, within the budget, with retries."""
    if not settings.MAL_CLIENT_ID:
        raise MalNotConfigured("MAL_CLIENT_ID is not set")
    url = path_or_url if "://" in path_or_url else settings.MAL_API_URL.rstrip("/") + path_or_url
    attempts = max(settings.MAL_MAX_RETRIES, 0) + 1
    for attempt in range(attempts):
        error = _attempt(url, params, retry=attempt)
        if not isinstance(error, MalError):
            return error
        if attempt + 1 == attempts or not getattr(error, "retryable", False):
            raise error
        wait = settings.MAL_RETRY_BACKOFF_SECONDS * 2 ** attempt
        if error.retry_after is not None:
            if error.retry_after > settings.MAL_RETRY_MAX_WAIT_SECONDS:
                raise error  # not worth holding a request open; tell the caller when
            wait = max(wait, error.retry_after)
        logger.info("MAL %s failed (%s); retry %d in %.2fs", url, error, attempt + 1, wait)
        time.sleep(wait)
    raise AssertionError("unreachable")


def _attempt(url: str, params: dict | None, *, retry: int):
    """One request: the parsed JSON body, or the ``MalError`` it amounts to (not raised).

    Logs one line (status, duration, which retry) and counts it by outcome.
    """
    budget_take()
    started = time.monotonic()
    try:
        response = _session().get(
            url, params=params, headers={"X-MAL-CLIENT-ID": settings.MAL_CLIENT_ID},
            timeout=(settings.MAL_CONNECT_TIMEOUT, settings.MAL_READ_TIMEOUT),
        )
    except requests.Timeout:
        _record_call(url, "timeout", started, retry)
        return _retryable(MalUnavailable("MyAnimeList did not answer in time"))
    except requests.RequestException as exc:
        _record_call(url, "connection_error", started, retry)
        return _retryable(MalUnavailable(
            f"MyAnimeList could not be reached ({type(exc).__name__})"))
    _record_call(url, response.status_code, started, retry)
    return _outcome(response)


def _record_call(url: str, status, started: float, retry: int) -> None:
    seconds = time.monotonic() - started
    outcome = status if isinstance(status, str) else CALL_OUTCOMES.get(status, "http_error")
    metrics.MAL_REQUEST_SECONDS.labels(outcome=outcome).observe(seconds)
    # The path only: a paging URL's query adds nothing an operator needs.
    logger.info("MAL call GET %s status=%s %.0fms retry=%d", urlsplit(url).path, status,
                seconds * 1000, retry)


def _outcome(response):
    status = response.status_code
    retry_after = _retry_after(response.headers.get("Retry-After"))
    if status == 200:
        try:
            return response.json()
        except ValueError:
            return MalUnavailable("MyAnimeList answered with a body that is not JSON")
    if status == 404:
        return MalUserNotFound("MyAnimeList has no such user or anime")
    if status == 403:
        return MalForbidden("MyAnimeList refused access (private list)")
    if status == 429:
        return _retryable(MalRateLimited("MyAnimeList is throttling us", retry_after=retry_after))
    error = MalUnavailable(f"MyAnimeList answered HTTP {status}", retry_after=retry_after)
    return _retryable(error) if status in RETRY_STATUSES else error


def _retryable(error: MalError) -> MalError:
    error.retryable = True
    return error


def _retry_after(value: str | None) -> int | None:
    """``Retry-After`` in whole seconds (only the delta-seconds form; MAL sends that), at
    most ``RETRY_AFTER_MAX_SECONDS``; ``None`` for anything else ("inf", "nan", a date)."""
    try:
        seconds = float(value) if value else math.nan
    except ValueError:
        return None
    if not math.isfinite(seconds):
        return None
    return min(max(0, math.ceil(seconds)), RETRY_AFTER_MAX_SECONDS)


def budget_take() -> None:
    """Wait for a slot of the request budget shared through the cache.

    Time is cut into slots of ``1 / MAL_REQUESTS_PER_SECOND`` seconds; a request may start
    only at the start of a slot it reserved with an atomic ``cache.add``. Request starts
    are therefore at least one slot apart across every process sharing the cache, so no
    window of ``n`` seconds holds more than ``ceil(n * rate)`` requests. Raises
    ``MalRateLimited`` rather than queue for longer than ``MAL_BUDGET_MAX_WAIT_SECONDS``.
    """
    rate = settings.MAL_REQUESTS_PER_SECOND
    if rate <= 0:
        return
    _warn_if_cache_is_per_process()
    width = 1.0 / rate
    try:
        slot = shared_cache.call(_reserve_slot, rate, width)
    except shared_cache.CacheDown as error:
        # Without the shared budget nothing stops the processes from flooding MAL: no call.
        raise _retryable(MalUnavailable(
            "MyAnimeList requests are paused: the shared request budget is unreachable",
            retry_after=math.ceil(shared_cache.RETRY_SECONDS))) from error
    delay = slot * width - time.time()
    metrics.MAL_BUDGET_WAIT_SECONDS.observe(max(delay, 0.0))
    if delay > 0:
        time.sleep(delay)


def _reserve_slot(rate: float, width: float) -> int:
    """The first free slot from now on, reserved; ``MalRateLimited`` past the longest wait."""
    max_wait = settings.MAL_BUDGET_MAX_WAIT_SECONDS
    now = time.time()
    first, last = math.ceil(now / width), math.ceil((now + max_wait) / width)
    hint = cache.get(BUDGET_HINT_KEY.format(rate))
    slot = hint if isinstance(hint, int) and first < hint <= last else first
    while not cache.add(BUDGET_KEY.format(rate, slot), 1, timeout=int(max_wait) + 60):
        slot += 1
        if slot > last:
            metrics.MAL_BUDGET_REFUSALS.inc()
            raise MalRateLimited("Too many MyAnimeList requests are queued",
                                 retry_after=math.ceil(max_wait))
    # Only a hint to skip taken slots; correctness rests on ``cache.add`` alone.
    cache.set(BUDGET_HINT_KEY.format(rate), slot + 1, timeout=int(max_wait) + 60)
    return slot


_warned = False


def _warn_if_cache_is_per_process() -> None:
    global _warned
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if not _warned and not settings.DEBUG and backend.endswith("LocMemCache"):
        _warned = True
        logger.warning("The MAL request budget is held in a per-process cache: set REDIS_URL "
                       "so that all workers and commands share it.")
