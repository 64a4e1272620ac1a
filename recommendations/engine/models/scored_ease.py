"""``scored_ease``: two EASE item-item models, kept sparse, that read the scores (no Django).

EASE (Steck, 2019) learns an item-item weight matrix ``B`` with a zero diagonal by ridge
regression of everyone's watched items on themselves: ``P = (XᵀX + λI)⁻¹``,
``B = -P / diag(P)``. A user's predicted interest in anime ``j`` is ``Σᵢ xᵢ B[i, j]`` over
the anime ``i`` of their own list, which is why a user who joined after the training is
served at once from their list (fold-in).

This model differs from plain EASE in three ways, each measured on the demo lists (see
EVALUATION.md / the README):

- the input reads the score: an entry counts ``1 + score_slope * (score - 7)`` instead
  of 1, so a 10 pulls harder than a 5;
- a second EASE, trained on the *liked* entries only (scored 7 or more), adds its
  prediction from the user's liked entries, weighted ``liked_weight``;
- each source anime keeps only its ``top_n`` strongest weights towards recommendable
  anime, each shrunk towards 0 by the strongest one dropped (a soft threshold), so the
  served model is a sparse matrix (``top_n`` × anime × 8 bytes per model) instead of a
  dense anime × anime one. The cut and the shrinking are not only thrift: they
  regularise (NDCG@16 on the demo lists: 0.409 with every weight, 0.420 cut to 256,
  0.445 cut to 384 and shrunk).

Ties (an anime no list entry reaches scores 0) go to the more watched anime, then the
lower id, so a user with a very short list still gets a full page.
"""
from dataclasses import dataclass, field

import numpy as np

from recommendations.engine.models.base import Interactions, Scored, UserList
from recommendations.engine.models.items import ItemSpace
from recommendations.engine.ranking import Catalog

NAME = "scored_ease"
LIKED_SCORE = 7
# Source rows of ``B`` cut to their ``top_n`` at a time: bounds the work arrays (rows x
# targets) to about 160 MB each at 20,000 anime.
ROW_BLOCK = 1024


@dataclass(frozen=True)
class SparseWeights:
    """One sparse item-item model in CSR: row = source anime (``ScoredEase.item_ids``
    position), column = target anime (``ScoredEase.target_ids`` position)."""

    indptr: np.ndarray  # int64, len(item_ids) + 1
    targets: np.ndarray  # int32
    weights: np.ndarray  # float32

    def scores(self, rows: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
        """``Σ values[k] * W[rows[k], :]`` as a dense vector of ``size`` targets."""
        starts, stops = self.indptr[rows], self.indptr[rows + 1]
        lengths = stops - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(size, dtype=np.float64)
        # One gather of every slice (as ``UserIndex.entries_of`` does), then one bincount.
        offsets = np.cumsum(lengths) - lengths
        take = np.arange(total) + np.repeat(starts - offsets, lengths)
        weighted = self.weights[take] * np.repeat(values, lengths).astype(np.float32)
        return np.bincount(self.targets[take], weights=weighted, minlength=size)


@dataclass
class ScoredEase:
    """The ``Recommender`` (see ``base``): ``fit`` trains, ``recommend`` answers for a list.

    A trained model is its arrays alone (``ARRAYS``), which ``model_file`` saves and maps.
    """

    lam: float = 70.0
    liked_lam: float = 50.0
    liked_weight: float = 0.5
    score_slope: float = 0.05
    top_n: int = 384
    min_users: int = 1
    max_items: int = 20_000
    name: str = NAME
    # Trained state: source anime (sorted), recommendable targets (sorted), their watcher
    # counts and mean training score, and the two sparse weight matrices.
    item_ids: np.ndarray | None = field(default=None, repr=False)
    target_ids: np.ndarray | None = field(default=None, repr=False)
    target_watchers: np.ndarray | None = field(default=None, repr=False)
    target_mean_score: np.ndarray | None = field(default=None, repr=False)
    watched: SparseWeights | None = field(default=None, repr=False)
    liked: SparseWeights | None = field(default=None, repr=False)

    ARRAYS = ("item_ids", "target_ids", "target_watchers", "target_mean_score")
    PARAMS = ("lam", "liked_lam", "liked_weight", "score_slope", "top_n", "min_users", "max_items")

    # ----- training -------------------------------------------------------------------

    def fit(self, interactions: Interactions, catalog: Catalog, progress=None) -> "ScoredEase":
        """Train on everyone's entries. ``progress(step_name)`` is called after each step."""
        step = progress or (lambda name: None)
        items = ItemSpace.from_interactions(interactions, max_items=self.max_items,
                                            min_users=self.min_users)
        rows = catalog.rows_of_ids(items.anime_ids)
        recommendable = (rows >= 0) & catalog.recommendable[rows]
        target_columns = np.flatnonzero(recommendable)
        columns = items.columns_of(interactions.anime_ids)
        known = columns >= 0
        score_sum = np.bincount(columns[known], minlength=len(items),
                                weights=np.asarray(interactions.scores, np.float64)[known])
        entries = np.bincount(columns[known], minlength=len(items))
        self.item_ids = items.anime_ids
        self.target_ids = items.anime_ids[target_columns]
        self.target_watchers = items.user_counts[target_columns].astype(np.int32)
        self.target_mean_score = (score_sum[target_columns] /
                                  np.maximum(entries[target_columns], 1)).astype(np.float32)
        step("items")
        self.watched = _sparse_ease(items.cooccurrence(interactions), self.lam,
                                    target_columns, self.top_n)
        step("watched model")
        self.liked = _sparse_ease(items.cooccurrence(_liked(interactions)), self.liked_lam,
                                  target_columns, self.top_n)
        step("liked model")
        return self

    # ----- serving ----------------------------------------------------------------------

    def target_scores(self, anime_ids, scores) -> np.ndarray:
        """The model's score of every target anime for a list of watched, scored entries
        (one float per ``target_ids``; 0 where no entry reaches)."""
        anime_ids = np.asarray(anime_ids, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float64)
        rows = np.searchsorted(self.item_ids, anime_ids)
        clipped = np.minimum(rows, max(len(self.item_ids) - 1, 0))
        known = (rows < len(self.item_ids)) & (self.item_ids[clipped] == anime_ids) \
            if len(self.item_ids) else np.zeros(len(anime_ids), dtype=bool)
        rows, scores = clipped[known], scores[known]
        size = len(self.target_ids)
        total = self.watched.scores(rows, 1.0 + self.score_slope * (scores - LIKED_SCORE), size)
        liked = scores >= LIKED_SCORE
        total += self.liked_weight * self.liked.scores(
            rows[liked], np.ones(int(liked.sum())), size)
        return total

    def recommend(self, user: UserList, k: int, *, allowed: np.ndarray | None = None) -> Scored:
        """The user's top ``k`` (see ``base``). ``allowed`` (bool per ``target_ids``) narrows
        the targets further, e.g. to what today's catalog still finds recommendable."""
        score = self.target_scores(user.anime_ids, user.scores)
        eligible = np.ones(len(score), dtype=bool) if allowed is None else allowed.copy()
        listed = np.asarray(user.listed_anime_ids, dtype=np.int64)
        if listed.size and len(self.target_ids):
            rows = np.searchsorted(self.target_ids, listed)
            clipped = np.minimum(rows, len(self.target_ids) - 1)
            eligible[clipped[self.target_ids[clipped] == listed]] = False
        candidates = np.flatnonzero(eligible)
        if len(candidates) > k > 0:
            # Everything tied with the k-th score stays in, so the tie-break below decides.
            threshold = np.partition(score[candidates], len(candidates) - k)[len(candidates) - k]
            candidates = candidates[score[candidates] >= threshold]
        order = np.lexsort((self.target_ids[candidates], -self.target_watchers[candidates],
                            -score[candidates]))[:max(k, 0)]
        chosen = candidates[order]
        return Scored(anime_ids=self.target_ids[chosen].astype(np.int64),
                      scores=score[chosen].astype(np.float64))


def _liked(interactions: Interactions) -> Interactions:
    liked = np.asarray(interactions.scores) >= LIKED_SCORE
    return Interactions(user_ids=np.asarray(interactions.user_ids)[liked],
                        anime_ids=np.asarray(interactions.anime_ids)[liked],
                        scores=np.asarray(interactions.scores)[liked],
                        updated=np.asarray(interactions.updated)[liked])


def _sparse_ease(gram: np.ndarray, lam: float, target_columns: np.ndarray,
                 top_n: int) -> SparseWeights:
    """EASE's ``B`` from a Gram matrix (changed in place: it ends as the inverse), each
    row cut to its ``top_n`` largest weights (by magnitude) among ``target_columns`` and
    shrunk (``_shrunk_top``).

    At 20,000 anime the Gram matrix alone is 3.2 GB, so no second matrix of its size is
    made: it is inverted in its own memory (``_invert_in_place``) and ``B`` is cut to size
    ``ROW_BLOCK`` source rows at a time (each row's cut reads that row alone).
    """
    size = len(gram)
    gram[np.diag_indices(size)] += lam
    inverse = _invert_in_place(gram)
    keep = min(top_n, len(target_columns))
    if keep == 0:
        return SparseWeights(indptr=np.zeros(size + 1, np.int64),
                             targets=np.zeros(0, np.int32), weights=np.zeros(0, np.float32))
    # B[i, j] = P[i, j] / -P[j, j]; B's diagonal is 0: a target never recommends itself.
    divisors = -np.diag(inverse)[target_columns]
    position_of_target = np.full(size, -1, dtype=np.int64)
    position_of_target[target_columns] = np.arange(len(target_columns))
    counts = np.zeros(size, dtype=np.int64)
    targets, weights = [], []
    for start in range(0, size, ROW_BLOCK):
        stop = min(start + ROW_BLOCK, size)
        block = inverse[start:stop, target_columns]  # rows: sources, columns: targets
        block /= divisors[None, :]
        own = np.flatnonzero(position_of_target[start:stop] >= 0)
        block[own, position_of_target[start + own]] = 0.0
        strongest, values = _shrunk_top(block, keep)
        nonzero = values != 0
        counts[start:stop] = nonzero.sum(axis=1)
        targets.append(strongest[nonzero].astype(np.int32))
        weights.append(values[nonzero].astype(np.float32))
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return SparseWeights(indptr=indptr, targets=np.concatenate(targets),
                         weights=np.concatenate(weights))


def _shrunk_top(block: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``keep`` largest weights by magnitude (their columns, their values),
    every one shrunk towards 0 by the largest magnitude that the cut drops.

    A row soft-thresholded where its cut falls, as an L1 penalty would leave it: a weight
    just inside the cut counts for almost nothing, a strong one keeps most of its pull.
    On the demo lists this is worth about +0.02 of NDCG@16 over the plain cut (see the
    README's "What was tried"); it also leaves no step at the cut.
    """
    magnitude = np.abs(block)
    if keep < block.shape[1]:
        order = np.argpartition(-magnitude, keep, axis=1)
        strongest = order[:, :keep]
        dropped = np.take_along_axis(magnitude, order[:, keep:keep + 1], axis=1)
    else:  # nothing is cut, nothing shrinks
        strongest = np.broadcast_to(np.arange(block.shape[1]), block.shape)
        dropped = np.zeros((len(block), 1), dtype=block.dtype)
    values = np.take_along_axis(block, strongest, axis=1)
    values = np.sign(values) * np.maximum(np.abs(values) - dropped, 0.0)
    return strongest, values


def _invert_in_place(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive definite matrix, written over it (returned).

    ``np.linalg.inv`` holds four matrices of the full size at once (its input, two LAPACK
    work copies and its result): 12.8 GB at 20,000 anime. Here the inverse is assembled
    from two half-size inverses by the Schur complement, in the matrix's own memory, with
    at most three quarters of a matrix more; it does fewer operations too. With
    ``M = [[A, B], [Bᵀ, D]]``, ``X = A⁻¹B`` and ``S = D - BᵀX`` (positive definite too)::

        M⁻¹ = [[A⁻¹ + X S⁻¹ Xᵀ, -X S⁻¹], [-(X S⁻¹)ᵀ, S⁻¹]]

    It equals ``np.linalg.inv``'s to rounding (within 2e-15 of the largest entry on the
    demo lists), far below the float32 the weights are kept in. As with any change of the
    rounding (the number of BLAS threads does it too), the ``top_n`` cut may then pick a
    different one of two weights that are equal in float32.
    """
    half = len(matrix) // 2
    if half == 0:
        matrix[...] = np.linalg.inv(matrix)
        return matrix
    a, b, d = matrix[:half, :half], matrix[:half, half:], matrix[half:, half:]
    a[...] = np.linalg.inv(a)
    x = a @ b
    d -= b.T @ x  # S
    b[...] = x  # B is not needed any more: X takes its place
    del x
    d[...] = np.linalg.inv(d)
    x_s = b @ d
    a += x_s @ b.T
    np.negative(x_s, out=b)
    matrix[half:, :half] = b.T
    return matrix
