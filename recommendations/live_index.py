"""The bridge between the database and the in-memory similarity index.

The database is the source of truth. Each process builds its index lazily on first use,
then keeps it current by polling the ``IndexChange`` feed at most every
``INDEX_POLL_SECONDS``: whichever process stores a user, every other one sees it within
seconds. Requests read an immutable ``IndexState``; updates swap in a new one.

Under gunicorn each worker builds its index in the background as soon as it starts
(gunicorn.conf.py), so no client request waits for it; the readiness probe says "not
ready" until then.
"""
import logging
import re
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from recommendations.engine import index_file
from recommendations import selectors
from recommendations.models import IndexChange, SimilaritySnapshot
from recommendations.engine.ranking import Catalog
from recommendations.engine.user_index import UserIndex, UserRecord
from reko import metrics

logger = logging.getLogger(__name__)

SIMILAR_PAGE_SIZE = 32
SIMILAR_MAX_PAGE = 40
NEIGHBOURS_KEPT = SIMILAR_PAGE_SIZE * SIMILAR_MAX_PAGE


# A feed id skipped over is looked for again this long: on PostgreSQL ids are taken at
# insert, so a transaction may commit its change after a later id was already applied.
GAP_PATIENCE_SECONDS = 120.0
GAPS_TRACKED = 1_000


@dataclass(frozen=True)
class IndexState:
    users: UserIndex
    catalog: Catalog
    last_change_id: int
    # Feed ids under ``last_change_id`` not seen yet -> when they were first missed.
    gaps: dict = field(default_factory=dict)
    # When this process last saw the users change (built, or a user change applied), in
    # seconds since the epoch: a neighbour list stored before then may differ from a scan.
    users_changed_at: float = field(default_factory=time.time)


_lock = threading.Lock()
_state: IndexState | None = None
# Called with the usernames of users this process sees change (None: anyone may have).
_user_change_listeners: list = []
# The monotonic clock may start near 0 at boot, so "never polled" is minus infinity.
_NEVER = float("-inf")
_polled_at = _NEVER


def current_index() -> IndexState:
    """The process's index, built on first use and brought up to date every few seconds."""
    global _state, _polled_at
    state = _state
    if state is not None and time.monotonic() - _polled_at < settings.INDEX_POLL_SECONDS:
        return state
    with _lock:
        if _state is None:
            started = time.monotonic()
            _state = build_index()
            _tell_user_listeners(None)
            _log_build(len(_state.users), time.monotonic() - started)
        elif time.monotonic() - _polled_at >= settings.INDEX_POLL_SECONDS:
            _state = _apply_changes(_state)
        _polled_at = time.monotonic()
        metrics.INDEX_USERS.set(len(_state.users))
        metrics.INDEX_LAST_POLL.set(time.time())
        return _state


def on_user_changes(listener) -> None:
    """Have ``listener(usernames)`` called, under the index's lock, with the names (old and
    new) of the users each poll finds changed, and with None when the index is built or
    reset: whatever a process keeps about users stays as current as its index."""
    _user_change_listeners.append(listener)


def _tell_user_listeners(usernames) -> None:
    for listener in _user_change_listeners:
        listener(usernames)


def _log_build(users: int, seconds: float) -> None:
    metrics.INDEX_BUILD_SECONDS.observe(seconds)
    logger.info("Similarity index built: %d users in %.2fs", users, seconds)


def is_built() -> bool:
    return _state is not None


_builder_lock = threading.Lock()
_builder: threading.Thread | None = None


def build_in_background() -> None:
    """Start building the index in a thread, unless it is built or being built."""
    global _builder
    with _builder_lock:
        if _state is not None or (_builder is not None and _builder.is_alive()):
            return
        _builder = threading.Thread(target=_build_now, name="index-build", daemon=True)
        _builder.start()


def _build_now() -> None:
    try:
        current_index()
    except DatabaseError as error:
        # Expected while the database is down: one line per attempt, not a traceback.
        logger.warning("Building the similarity index failed, the database is unavailable "
                       "(%s); the next request or readiness probe tries again",
                       type(error).__name__)
    except Exception:
        logger.exception("Building the similarity index failed; the next request or "
                         "readiness probe tries again")
    finally:
        connections.close_all()  # this thread's own connections


def reset_index() -> None:
    """Forget the index; the next request builds it again (tests, after bulk imports)."""
    global _state, _polled_at
    with _lock:
        _state, _polled_at = None, _NEVER
        _tell_user_listeners(None)


def refresh_now() -> None:
    """Apply pending changes at once (after this process committed some)."""
    global _polled_at
    _polled_at = _NEVER


def build_index() -> IndexState:
    """The index as the database holds it now.

    With ``INDEX_DIR`` set, the index is built once per database state and saved there;
    every process maps the saved file (see ``index_file``), so workers share one copy.
    """
    # Read the feed position first: changes made while loading are applied again later,
    # which is harmless, rather than lost.
    last_change_id = selectors.last_index_change_id()
    folder = _index_folder(last_change_id)
    if folder is None:
        users = users_from_db()
    else:
        # Mapped under the lock too: a worker saving a newer state removes older folders.
        with index_file.build_lock(folder):
            users = _saved_index(folder)
    return IndexState(users=users, catalog=selectors.index_catalog(),
                      last_change_id=last_change_id)


def _saved_index(folder: Path) -> UserIndex:
    """The saved index of this database state, saved first if need be (under the build
    lock). A folder that cannot be read back is removed and built again, not retried by
    every request for ever."""
    if folder.exists():
        try:
            return index_file.load(folder)
        except index_file.IndexFileCorrupt as error:
            logger.warning("Index file unreadable, building it again: %s", error)
            index_file.discard(folder)
    index_file.save(users_from_db(), folder)
    index_file.remove_others(folder)
    return index_file.load(folder)


def users_from_db() -> UserIndex:
    users = selectors.index_users()
    entries = selectors.index_entry_columns()
    return UserIndex.from_arrays(
        ids=users["id"], names=users["username"], hashes=users["hash"],
        entry_user_ids=entries.pop("user_id"), anime_ids=entries.pop("anime_id"),
        scores=entries.pop("score"), updated=entries.pop("updated"),
    )


def _index_folder(last_change_id: int) -> Path | None:
    """The index file of the database's current state: named by the database, the feed
    position and stamp, and the hashed users' count and largest id, so that a file
    of an older state (or of a database recreated since) never matches."""
    base = settings.INDEX_DIR  # empty: each process keeps its index to itself
    if not base:
        return None
    stamp = selectors.index_state_stamp(last_change_id)
    name = re.sub(r"[^A-Za-z0-9]+", "_", str(connection.settings_dict["NAME"]))[-48:]
    return Path(base) / f"{connection.vendor}-{name}@{last_change_id}-{stamp}"


_details_lock = threading.Lock()
_details: tuple[Catalog, dict] | None = None


def anime_details_of(anime_ids, formatter) -> dict:
    """``formatter(anime)`` of each of these anime, by id, kept in memory per catalog.

    The details on a page rarely change, and reading them is most of a recommendation
    request's database time. The cache belongs to the current catalog: any anime change
    in the feed loads a new catalog and so starts a new cache (the database stays the
    source of truth). Ids not in the database are missing from the result.
    """
    global _details
    catalog = current_index().catalog
    with _details_lock:
        if _details is None or _details[0] is not catalog:
            # The whole catalog at once: one query (a few hundred ms once per process and
            # catalog version) instead of one per page while the cache fills.
            _details = (catalog, {anime.id: formatter(anime) for anime in selectors.anime_all()})
        cache = _details[1]
    wanted = [int(i) for i in anime_ids]
    missing = [i for i in wanted if i not in cache]
    if missing:
        for anime_id, anime in selectors.anime_by_ids(missing).items():
            cache[anime_id] = formatter(anime)
    return {i: cache[i] for i in wanted if i in cache}


def _apply_changes(state: IndexState) -> IndexState:
    changes = selectors.index_changes_after(state.last_change_id, also_ids=list(state.gaps))
    gaps = _gaps_after(state, changes)
    if not changes:
        return state if gaps == state.gaps else replace(state, gaps=gaps)
    user_ids = {object_id for _, kind, object_id in changes if kind == IndexChange.Kind.USER}
    catalog = state.catalog
    if any(kind == IndexChange.Kind.ANIME for _, kind, _ in changes):
        catalog = selectors.index_catalog()
    users, users_changed_at = state.users, state.users_changed_at
    if user_ids:
        records = load_user_records(user_ids)
        rows = users.rows_of(sorted(user_ids))
        _tell_user_listeners({name.decode() for name in users.names[rows[rows >= 0]].tolist()}
                             | {record.username for record in records})
        users = users.apply(upserts=records,
                            removals=user_ids - {record.id for record in records})
        users_changed_at = time.time()
    last = max(state.last_change_id, max(change_id for change_id, _, _ in changes))
    return IndexState(users=users, catalog=catalog, last_change_id=last, gaps=gaps,
                      users_changed_at=users_changed_at)


def _gaps_after(state: IndexState, changes) -> dict:
    """The feed ids still missing after reading ``changes``: earlier gaps not seen yet and
    not expired, plus the ids skipped between the last applied id and the newest read.
    (Ids of rolled-back transactions are never seen; they simply expire.)"""
    now = time.monotonic()
    seen = {change_id for change_id, _, _ in changes}
    gaps = {i: since for i, since in state.gaps.items()
            if i not in seen and now - since < GAP_PATIENCE_SECONDS}
    newest = max(seen, default=state.last_change_id)
    skipped = range(max(state.last_change_id + 1, newest - GAPS_TRACKED), newest)
    gaps.update((i, now) for i in skipped if i not in seen)
    if len(gaps) > GAPS_TRACKED:  # keep the newest: an old gap is the least likely to fill
        gaps = dict(sorted(gaps.items())[-GAPS_TRACKED:])
    return gaps


def load_user_records(user_ids) -> list[UserRecord]:
    """Index records of these users as stored now (users without a hash are left out)."""
    users = selectors.index_users(user_ids)
    entries = selectors.index_entries(users["id"].tolist())
    # One sort, then each user's slice: a batch of thousands of changed users (an import's
    # rehash) stays linear in the entries.
    entries = entries[np.argsort(entries["user_id"], kind="stable")]
    starts = np.searchsorted(entries["user_id"], users["id"], side="left")
    stops = np.searchsorted(entries["user_id"], users["id"], side="right")
    records = []
    for (user_id, username, user_hash), start, stop in zip(users, starts, stops):
        mine = entries[start:stop]
        records.append(UserRecord(
            id=int(user_id), username=username.decode(), hash=int(user_hash),
            anime_ids=mine["anime_id"], scores=mine["score"], updated=mine["updated"],
        ))
    return records


def store_snapshot(user, ids: np.ndarray, dists: np.ndarray) -> None:
    """Store (or replace) the user's neighbour list, in one upsert statement.

    A snapshot is derived data: on PostgreSQL its commit does not wait for the WAL flush
    (``synchronous_commit = off`` for this transaction only). A crash may lose the last
    few snapshots, which are then computed again; it never corrupts anything.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        SimilaritySnapshot.objects.bulk_create(
            [SimilaritySnapshot(user_id=user.id, hash=user.hash, computed_at=timezone.now(),
                                neighbour_ids=ids.tolist(),
                                distances=dists.astype(int).tolist())],
            update_conflicts=True, unique_fields=["user"],
            update_fields=["hash", "computed_at", "neighbour_ids", "distances"])


def record_changes(kind: str, object_ids) -> None:
    """Note changed users or anime in the feed, inside the caller's transaction.

    This process applies them as soon as the transaction commits; others on their next poll.
    """
    IndexChange.objects.bulk_create(
        [IndexChange(kind=kind, object_id=int(object_id)) for object_id in object_ids]
    )
    transaction.on_commit(refresh_now)


def epoch_now() -> float:
    """Seconds since the epoch: the "now" of the recommendation formulas' years."""
    return time.time()

