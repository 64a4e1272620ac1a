"""The anime catalog, similarity snapshots and the change feed of the in-memory index."""
import logging

from django.core.exceptions import ValidationError
from django.db import models

from recommendations.catalog_files import OLD_GENRE_IDS
from recommendations.engine.taste_hash import GENRES, anime_stats, genre_names, stat_slots

logger = logging.getLogger(__name__)

# The contract's genres and themes, and the retired ones old catalogs still name.
KNOWN_GENRE_IDS = frozenset(GENRES) | frozenset(OLD_GENRE_IDS.values())


def validate_genre_ids(value) -> None:
    """A list of known MAL genre ids, each once: any other value breaks every hash and
    recommendation that reads this anime."""
    if not isinstance(value, list):
        raise ValidationError("Genres are a list of MyAnimeList genre ids, e.g. [1, 4].",
                              code="invalid_genres")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item not in KNOWN_GENRE_IDS:
            raise ValidationError("%(item)r is not a known MyAnimeList genre id.",
                                  code="unknown_genre", params={"item": item})
    if len(set(value)) != len(value):
        raise ValidationError("A genre id appears twice.", code="duplicate_genre")
from reko.fields import Uint64Field


class Anime(models.Model):
    class Rating(models.TextChoices):
        G = "g", "G - All Ages"
        PG = "pg", "PG - Children"
        PG_13 = "pg_13", "PG-13 - Teens 13 and older"
        R = "r", "R - 17+"
        R_PLUS = "r+", "R+ - Mild Nudity"
        RX = "rx", "Rx - Hentai"

    class AiringStatus(models.TextChoices):
        FINISHED = "finished_airing"
        AIRING = "currently_airing"
        NOT_YET = "not_yet_aired"

    id = models.IntegerField(primary_key=True, help_text="MyAnimeList anime id.")
    title = models.CharField(max_length=255)
    start_date = models.DateField(null=True, blank=True)
    episodes = models.PositiveIntegerField(null=True, blank=True)
    mean = models.FloatField(null=True, blank=True, help_text="MyAnimeList mean score.")
    rating = models.CharField(max_length=8, choices=Rating.choices, null=True, blank=True)
    picture = models.URLField(max_length=255, null=True, blank=True)
    airing_status = models.CharField(
        max_length=20, choices=AiringStatus.choices, null=True, blank=True
    )
    media_type = models.CharField(max_length=16, blank=True, default="")
    genres = models.JSONField(default=list, blank=True, help_text="MAL genre ids, in order.",
                              validators=[validate_genre_ids])
    # Sequels, spin-offs and other children point at their parent. No database constraint:
    # MAL may name a parent that the catalog has not fetched yet.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, db_constraint=False,
        related_name="children",
    )
    relations_checked_at = models.DateTimeField(
        null=True, blank=True, help_text="When MAL's related anime were last read."
    )
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name_plural = "anime"
        ordering = ["id"]

    def __str__(self):
        return f"{self.title} ({self.id})"

    @property
    def genre_names(self) -> list[str]:
        return genre_names(usable_genre_ids(self.genres, anime_id=self.id))


class SimilaritySnapshot(models.Model):
    """A user's nearest neighbours as computed at one moment from one hash.

    Every page of ``/similar`` and every batch of the recommendation routes reads the same
    snapshot, so a client walking through them sees one consistent neighbour list.
    """

    user = models.OneToOneField(
        "users.MalUser", on_delete=models.CASCADE, related_name="similarity_snapshot"
    )
    hash = Uint64Field(help_text="The user's hash the neighbours were computed from.")
    computed_at = models.DateTimeField()
    neighbour_ids = models.JSONField(default=list, help_text="MalUser ids, most similar first.")
    distances = models.JSONField(default=list, help_text="Hash distance of each neighbour.")

    def __str__(self):
        return f"snapshot of {self.user_id} at {self.computed_at:%Y-%m-%d %H:%M}"


class IndexChange(models.Model):
    """An append-only feed of changed users and anime.

    Every process keeps its own in-memory index; each polls this table for rows newer than
    the last one it applied, so a change written by one worker reaches the others within
    ``INDEX_POLL_SECONDS``. Old rows are pruned by ``prune_index_changes``.
    """

    class Kind(models.TextChoices):
        USER = "user"
        ANIME = "anime"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return f"{self.kind} {self.object_id}"


def usable_genre_ids(genres, *, anime_id=None) -> list[int]:
    """The genre ids of a stored ``genres`` value that can be used. A bad value (written
    around the model's validation) is skipped and logged, so that it cannot break every
    hash and recommendation page that reads this anime."""
    if isinstance(genres, list) and all(
            isinstance(g, int) and not isinstance(g, bool) for g in genres):
        return genres
    usable = [g for g in genres if isinstance(g, int) and not isinstance(g, bool)] \
        if isinstance(genres, list) else []
    logger.warning("Anime %s: genres %r are not a list of ids; using %r", anime_id,
                   genres, usable)
    return usable


def anime_hash_slots(*, start_date, episodes, rating, genres) -> list[int]:
    """The taste-hash counter slots that an anime with these fields feeds."""
    return stat_slots(anime_stats(
        year=start_date.year if start_date else None, episodes=episodes, rating=rating,
        genre_ids=usable_genre_ids(genres or []),
    ))
