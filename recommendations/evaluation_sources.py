"""Where ``evaluate`` reads its data: the database, or files in the demo's formats.

Both give the same ``Dataset`` (see ``recommendations.evaluation``), with the rules the
service uses: watched means completed, or watching with an episode seen; an anime with a
parent (a sequel) or without a mean is never recommended; file lists are dated by the
demo's rule (``demo_updated_at``).
"""
from pathlib import Path

import numpy as np

from recommendations import selectors
from recommendations.catalog import catalog_slot_table
from recommendations.catalog_files import (
    CatalogFileError, open_text, parse_catalog_file, parse_sequels_csv,
)
from recommendations.demo import demo_updated_at, parse_demo_lists
from recommendations.engine.ranking import Catalog
from recommendations.engine.taste_hash import SlotTable
from recommendations.evaluation.dataset import Dataset, ListEntries
from recommendations.models import anime_hash_slots
from users.models import ListEntry, MalUser


def dataset_from_db() -> Dataset:
    """Every stored user's list and the stored catalog."""
    users = list(MalUser.objects.order_by("id").values_list("id", "username"))
    rows = selectors.list_entries_all()
    entries = ListEntries(user_ids=rows["user_id"], anime_ids=rows["anime_id"],
                          scores=rows["score"], watched=rows["watched"].astype(bool),
                          updated=rows["updated"].astype(np.float64))
    anime_ids, slots = catalog_slot_table()
    catalog = selectors.index_catalog()
    if not np.array_equal(anime_ids, catalog.ids):
        raise RuntimeError("the catalog changed while it was read; run evaluate again")
    return Dataset(user_ids=np.array([u[0] for u in users], dtype=np.int64),
                   usernames=np.array([u[1] for u in users], dtype=str),
                   entries=entries, catalog=catalog, slots=slots)


def dataset_from_files(*, lists: Path, catalog: Path, sequels: Path | None = None) -> Dataset:
    """Lists in the demo format (``username,anime_id,score,status[,watched_episodes]``),
    a catalog file as ``import_catalog`` reads it, and optional sequel links.

    Users are numbered in username order. ``CatalogFileError`` names the first bad record.
    """
    records = parse_catalog_file(catalog)
    children = set()
    if sequels is not None:
        with open_text(sequels) as f:
            children = {child for parent, child in parse_sequels_csv(f) if child != parent}
    with open_text(lists) as f:
        entries = parse_demo_lists(f)
    if not entries:
        raise CatalogFileError(f"{Path(lists).name}: no list entries")
    records.sort(key=lambda r: r.id)
    table = Catalog.from_arrays(
        ids=[r.id for r in records],
        mean=[np.nan if r.mean is None else r.mean for r in records],
        has_parent=[r.parent_id is not None or r.id in children for r in records])
    slots = SlotTable([anime_hash_slots(start_date=r.start_date, episodes=r.episodes,
                                        rating=r.rating, genres=r.genres) for r in records])
    names = sorted({e.username for e in entries})
    user_of = {name: number for number, name in enumerate(names, start=1)}
    updated = demo_updated_at(entries)
    return Dataset(
        user_ids=np.arange(1, len(names) + 1, dtype=np.int64),
        usernames=np.array(names, dtype=str),
        entries=ListEntries(
            user_ids=np.array([user_of[e.username] for e in entries], dtype=np.int64),
            anime_ids=np.array([e.anime_id for e in entries], dtype=np.int64),
            scores=np.array([e.score for e in entries], dtype=np.int64),
            watched=np.array([e.status == ListEntry.Status.COMPLETED or
                              (e.status == ListEntry.Status.WATCHING and e.episodes_watched > 0)
                              for e in entries], dtype=bool),
            updated=np.array([t.timestamp() for t in updated], dtype=np.float64)),
        catalog=table, slots=slots)
