"""Similar users and recommendations for a stored user, as plain data for the views.

Reads the in-memory index (``live_index``) for every scan and aggregation, and the
neighbour list that ``neighbours`` chooses; the database only supplies the requester's own
list and the details of the anime on the page being served.
"""
import numpy as np

from recommendations import live_index, selectors
from recommendations.engine.ranking import (
    Catalog, Ranking, random_pick, rank_batch, rank_single_user,
)
from recommendations.engine.similarity import distance, similarity
from recommendations.engine.taste_hash import format_hash
from recommendations.models import Anime
from recommendations.neighbours import Neighbours, neighbours_of
from users.models import MalUser

RECOMMENDATION_PAGE_SIZE = 16
RECOMMENDATION_MAX_PAGE = 20
BATCH_SIZE = live_index.SIMILAR_PAGE_SIZE
BATCH_MAX = live_index.SIMILAR_MAX_PAGE
RANDOM_SIZE = 32


def requester_data(user: MalUser) -> dict:
    return {"username": user.username, "hash": format_hash(user.hash)}


def user_dicts(index, ids: np.ndarray, dists: np.ndarray) -> list[dict | None]:
    """SimilarUser dicts of these users, None for one no longer in the index (one
    vectorised look-up for the whole page)."""
    rows = index.rows_of(ids)
    found = rows >= 0
    names = iter(index.names[rows[found]].tolist())
    hashes = iter(index.hashes[rows[found]].tolist())
    percents = similarity(dists).tolist()
    return [{"username": next(names).decode(), "hash": format_hash(next(hashes)),
             "similarity": int(percent)} if ok else None
            for ok, percent in zip(found.tolist(), percents)]


def _similar_users(neighbours: Neighbours) -> list[dict]:
    """Neighbours as SimilarUser dicts; users removed since the snapshot are skipped."""
    index = live_index.current_index().users
    return [u for u in user_dicts(index, neighbours.ids, neighbours.distances) if u is not None]


def similar_page(user: MalUser, page: int) -> tuple[list[dict], bool]:
    """One page of similar users and whether the next page has any."""
    neighbours = neighbours_of(user, starts_walk=page == 1)
    has_next = len(neighbours.ids) > page * BATCH_SIZE
    return _similar_users(neighbours.window(page, BATCH_SIZE)), has_next


def compare(user: MalUser, other: MalUser) -> dict:
    return {"username": other.username, "hash": format_hash(other.hash),
            "similarity": int(similarity(distance(user.hash, other.hash)))}


def anime_details(anime: Anime) -> dict:
    return {
        "title": anime.title,
        "mean": anime.mean,
        "airing_date": anime.start_date.strftime("%Y-%m-%dT00:00:00") if anime.start_date else None,
        "length": anime.episodes,
        "rating": anime.rating,
        "picture": anime.picture,
        "genres": anime.genre_names,
    }


def _batch_ranking(user: MalUser, batch: int, *, starts_walk: bool,
                   ordered: bool = True) -> tuple[Ranking, list[dict | None], Catalog]:
    """The batch's ranking (see ``rank_batch``), its members as SimilarUser dicts by batch
    position (``owner`` in the ranking; None for a user that has left the index since, who
    contributes no entries), and the catalog it was ranked against."""
    members = neighbours_of(user, starts_walk=starts_walk).window(batch, BATCH_SIZE)
    state = live_index.current_index()
    entries = state.users.entries_of(members.ids)
    ranking = rank_batch(entries, state.catalog, exclude_anime_ids=selectors.user_anime_ids(user),
                         now=live_index.epoch_now(), ordered=ordered)
    return ranking, user_dicts(state.users, members.ids, members.distances), state.catalog


def _page(ranking: Ranking, page: int) -> tuple[list[int], bool]:
    """Positions of a recommendation page in ``ranking``, and whether more follow."""
    start = (page - 1) * RECOMMENDATION_PAGE_SIZE
    stop = min(start + RECOMMENDATION_PAGE_SIZE, len(ranking))
    return list(range(start, stop)), len(ranking) > stop


def _with_details(ranking: Ranking, positions: list[int]) -> list[tuple[int, dict]]:
    """``(position, details)`` of these ranked anime. One that left the catalog since the
    index last polled is skipped rather than failing the page."""
    details = live_index.anime_details_of(ranking.anime_ids[positions].tolist(), anime_details)
    return [(i, details[int(ranking.anime_ids[i])]) for i in positions
            if int(ranking.anime_ids[i]) in details]


def _recommendations(ranking: Ranking, positions: list[int], owners) -> list[dict]:
    out = []
    for i, details in _with_details(ranking, positions):
        who, scores = ranking.contributors(i)
        out.append({
            "id": int(ranking.anime_ids[i]),
            "score": int(ranking.scores[i]),
            "details": details,
            "users": [{**owners[o], "score": int(s)} for o, s in zip(who.tolist(), scores.tolist())],
        })
    return out


def recommendations_page(user: MalUser, *, batch: int, page: int) -> tuple[list[dict], bool]:
    ranking, owners, _ = _batch_ranking(user, batch, starts_walk=batch == 1 and page == 1)
    positions, has_next = _page(ranking, page)
    return _recommendations(ranking, positions, owners), has_next


def random_recommendations(user: MalUser, *, batch: int) -> list[dict]:
    # The draw weighs candidates by their mean alone: the formula's order is not needed.
    ranking, owners, catalog = _batch_ranking(user, batch, starts_walk=batch == 1,
                                              ordered=False)
    picks = random_pick(ranking, catalog, size=RANDOM_SIZE, rng=np.random.default_rng())
    return _recommendations(ranking, picks.tolist(), owners)


def user_recommendations_page(user: MalUser, other: MalUser, *, page: int) -> tuple[list[dict], bool]:
    state = live_index.current_index()
    entries = state.users.entries_of([other.id])
    ranking = rank_single_user(entries, state.catalog,
                               exclude_anime_ids=selectors.user_anime_ids(user),
                               now=live_index.epoch_now())
    positions, has_next = _page(ranking, page)
    data = [{"id": int(ranking.anime_ids[i]), "score": int(ranking.scores[i]), "details": details}
            for i, details in _with_details(ranking, positions)]
    return data, has_next
