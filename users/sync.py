"""Which stored user answers a request, fetching or refreshing from MyAnimeList as needed.

Policy (issue 3):

* an unknown user is fetched whole and stored with their entries and any new anime in one
  transaction; one fetch per user at a time across processes (a lock in the cache);
* a known user whose list is older than ``USER_REFRESH_AFTER_DAYS`` is refreshed
  incrementally (entries updated since the newest stored one), or in full when the last
  full sync is older than ``USER_FULL_RESYNC_AFTER_DAYS`` (entries deleted on MAL go);
* users imported from a MAL export file (``list_synced_at`` empty) are never refreshed by
  a request, since their list may be private; ``sync_users`` fetches them on demand;
* MAL 404 / 403 delete the stored copy (a 403 keeps a list imported from a file: a private
  list is why it was imported); when MAL is down or throttling, a known user is served
  from the stored copy, which every failure leaves as it was. A request whose user is
  being refreshed by another process is served the stored copy without waiting.
"""
import contextlib
import datetime as dt
import logging
import math
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from tqdm import tqdm

from recommendations.catalog_files import record_from_mal
from reko import cache_locks, shared_cache
from reko.exceptions import (
    ApiError, EmptyUserList, FailedSave, InvalidUserList, MALRateLimited, MALUnavailable,
    PrivateUserList, UserNotFound,
)
from users import fetch_limits, mal_client
from users.models import ListEntry, MalUser
from users.selectors import mal_user_by_name
from users.services import EntryData, mal_user_delete, mal_user_store_list, normalize_username

logger = logging.getLogger(__name__)

NOT_CONFIGURED = "This user is not known here yet, and " + mal_client.NOT_CONFIGURED
BUSY = "This user's list is being fetched right now. Please try again in a few seconds."
LOCK_KEY = "mal:sync-lock:{}"
LOCK_POLL_SECONDS = 0.05
# Errors after which a known user is served from the stored copy.
MAL_OUTAGES = (MALUnavailable, MALRateLimited, InvalidUserList)


@dataclass(frozen=True)
class SyncResult:
    user: MalUser
    action: str  # "created", "full", "incremental" or "fresh" (nothing fetched)


def user_for_request(username: str, *, refresh: bool, client: str | None = None) -> MalUser:
    """The stored user for ``username``, fetched from MAL if unknown.

    ``refresh`` also refreshes a known user whose list is stale (the requester does; the
    other user of compare and recommendations-from does not). ``client`` (the requester's
    IP) is held to its allowance of MAL-costing requests (``users.fetch_limits``).
    """
    name = normalize_username(username)
    user = mal_user_by_name(name)
    if user is None:
        user = _first_fetch(name, client)
    elif refresh and settings.MAL_CLIENT_ID and refresh_due(user):
        if fetch_limits.client_allowance_wait(client) is not None:
            logger.info("Serving %s from the stored copy: client over its MAL allowance", name)
        else:
            try:
                # Someone else refreshing this user: the stored copy will do, no waiting.
                user = mal_user_sync(username=name, lock_wait=0).user
            except MAL_OUTAGES as error:
                logger.warning("Serving %s from the stored copy: %s", name, error.message)
    if user.hash is None:
        raise EmptyUserList()
    return user


def _first_fetch(name: str, client: str | None) -> MalUser:
    """A never-seen user, fetched from MAL within the limits that keep workers free."""
    with _no_mal_without_cache():
        if fetch_limits.known_missing(name):
            raise UserNotFound()
        if not settings.MAL_CLIENT_ID:
            raise MALUnavailable(NOT_CONFIGURED, status=503)
        fetch_limits.check_client_allowance(client)
        with fetch_limits.first_fetch_slot():
            # A request waits less for another process's fetch of this user than a command
            # would: past the web server's timeout a 503 with Retry-After serves it better.
            return mal_user_sync(username=name,
                                 lock_wait=settings.MAL_SYNC_REQUEST_WAIT_SECONDS).user


@contextlib.contextmanager
def _no_mal_without_cache():
    """No MAL call while the shared cache is down: the request budget and the fetch locks
    live there. A 503 with Retry-After (a known user is served its stored copy)."""
    try:
        yield
    except shared_cache.CacheDown as error:
        raise MALUnavailable(status=503,
                             retry_after=math.ceil(shared_cache.RETRY_SECONDS)) from error


def refresh_due(user: MalUser) -> bool:
    """Whether a request should refresh this user's list from MAL."""
    if user.list_synced_at is None:  # imported from a file
        return False
    age = timezone.now() - user.list_synced_at
    return age >= dt.timedelta(days=settings.USER_REFRESH_AFTER_DAYS)


def _full_due(user: MalUser | None) -> bool:
    if user is None or user.full_synced_at is None:
        return True
    age = timezone.now() - user.full_synced_at
    return age >= dt.timedelta(days=settings.USER_FULL_RESYNC_AFTER_DAYS)


def mal_user_sync(*, username: str, force: bool = False, full: bool = False,
                  lock_wait: float | None = None) -> SyncResult:
    """Fetch an unknown user, or refresh a known one when due (always with ``force``).

    Raises the contract's errors (``UserNotFound``, ``PrivateUserList``, ``EmptyUserList``,
    ``MALUnavailable``...); 404 and 403 also delete the stored copy (but a 403 keeps a
    list imported from a file), an empty list deletes it too, and any other failure
    leaves the stored data as it was.
    """
    name = normalize_username(username)
    with _no_mal_without_cache(), _user_lock(name, wait=lock_wait):
        user = MalUser.objects.filter(username=name).first()
        if user is not None and not force and not refresh_due(user):
            return SyncResult(user, "fresh")  # fetched by someone else while we waited
        full = full or _full_due(user)
        since = None if full else _incremental_since(user)
        started = timezone.now()
        imported = user is not None and user.list_synced_at is None
        entries = _fetch_list(name, since, imported=imported)
        try:
            stored = mal_user_store_list(
                username=name, full=full, synced_at=started,
                entries=[EntryData(e.anime.id, e.status, e.score, e.episodes_watched,
                                   e.updated_at) for e in entries],
                anime=[record_from_mal(e.anime) for e in entries])
        except EmptyUserList:
            if user is not None:  # the list emptied on MAL: do not keep a user without one
                mal_user_delete(username=name)
            raise
        except DatabaseError as error:
            logger.exception("Could not store %s", name)
            raise FailedSave() from error
    action = "created" if user is None else "full" if full else "incremental"
    return SyncResult(stored, action)


def _incremental_since(user: MalUser) -> dt.datetime | None:
    newest = ListEntry.objects.filter(user=user).order_by("-updated_at").values_list(
        "updated_at", flat=True).first()
    return newest or user.list_synced_at


def _fetch_list(name: str, since: dt.datetime | None, *,
                imported: bool) -> list[mal_client.MalListEntry]:
    """The user's list from MAL; 404 and 403 delete the stored copy, except that a 403
    keeps a list imported from an export file (a private list is why it was imported)."""
    try:
        return mal_client.user_animelist(name, updated_since=since)
    except mal_client.MalUserNotFound:
        mal_user_delete(username=name)
        fetch_limits.remember_missing(name)
        raise UserNotFound() from None
    except mal_client.MalForbidden:
        if not imported:
            mal_user_delete(username=name)
        raise PrivateUserList() from None
    except mal_client.MalError as error:
        raise api_error_for(error) from error


def api_error_for(error: mal_client.MalError) -> ApiError:
    """The contract error for a MAL failure other than 404/403."""
    if isinstance(error, mal_client.MalNotConfigured):
        return MALUnavailable(NOT_CONFIGURED, status=503)
    if isinstance(error, mal_client.MalRateLimited):
        return MALRateLimited(retry_after=error.retry_after)
    if isinstance(error, mal_client.MalInvalidResponse):
        # What MAL sent (a paging URL, a field's value) is for the log, never the client.
        logger.warning("MAL answered with an unreadable list: %s", error)
        return InvalidUserList()
    # Temporary trouble (5xx, timeouts, no connection) is a 503; MAL refusing us is a 502.
    temporary = getattr(error, "retryable", False)
    return MALUnavailable(status=503 if temporary else 502, retry_after=error.retry_after)


@contextlib.contextmanager
def _user_lock(name: str, *, wait: float | None = None):
    """One fetch of a user at a time across threads and processes sharing the cache.

    Waits for another holder at most ``wait`` seconds (default: the lock's lifetime).
    """
    key, token = LOCK_KEY.format(name), cache_locks.new_token()
    timeout = settings.MAL_SYNC_LOCK_SECONDS
    deadline = time.monotonic() + (timeout if wait is None else wait)
    while not cache_locks.acquire(key, token, timeout=timeout + 1):
        if time.monotonic() > deadline:
            raise MALUnavailable(BUSY, status=503, retry_after=5)
        time.sleep(LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        # Compare-and-delete in one step: a lock that expired and was taken by another
        # fetch since is theirs.
        cache_locks.release(key, token)


# --- batch syncs (management commands) --------------------------------------------------

@dataclass
class SyncSummary:
    counts: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)  # (username, ApiError)
    stopped: str = ""  # why the run stopped early, if it did

    @property
    def errors(self) -> list:
        """Failures other than a user gone from MAL or gone private (normal outcomes)."""
        return [(u, e) for u, e in self.failures
                if not isinstance(e, (UserNotFound, PrivateUserList))]

    def add(self, action: str) -> None:
        self.counts[action] = self.counts.get(action, 0) + 1

    def __str__(self):
        done = ", ".join(f"{n} {a}" for a, n in sorted(self.counts.items())) or "none"
        text = f"Users synced: {done}; {len(self.failures)} failed"
        if self.failures:
            text += " (" + ", ".join(f"{u}: {e.id} ({e.message})"
                                     for u, e in self.failures[:20]) + ")"
        if self.stopped:
            text += f"; stopped early: {self.stopped}"
        return text + "."


def mal_users_sync(*, usernames, force: bool = True, full: bool = False,
                   stop_on_outage: bool = False, progress: bool = False) -> SyncSummary:
    """Sync these users one by one, carrying on past users that fail."""
    summary = SyncSummary()
    for name in tqdm(list(usernames), desc="users", unit="user", disable=not progress):
        try:
            summary.add(mal_user_sync(username=name, force=force, full=full).action)
        except ApiError as error:
            summary.failures.append((name, error))
            if stop_on_outage and isinstance(error, (MALUnavailable, MALRateLimited)):
                summary.stopped = f"{error.id} at {name}"
                break
    return summary


def mal_users_update_old(*, limit: int, progress: bool = False) -> SyncSummary:
    """Refresh the stalest users whose refresh is due (file imports excluded)."""
    cutoff = timezone.now() - dt.timedelta(days=settings.USER_REFRESH_AFTER_DAYS)
    names = list(MalUser.objects.filter(list_synced_at__lte=cutoff)
                 .order_by("list_synced_at", "id").values_list("username", flat=True)[:limit])
    return mal_users_sync(usernames=names, force=False, stop_on_outage=True, progress=progress)
