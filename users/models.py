"""MyAnimeList users and their list entries, as last synced."""
import re

from django.core.exceptions import ValidationError
from django.db import models

from recommendations.engine.taste_hash import format_hash
from reko.fields import Uint64Field

# \Z, not $: "$" also matches before a trailing newline, which would let "name\n" through.
USERNAME_RE = re.compile(r"\A[A-Za-z0-9_-]{2,16}\Z")
# The stored form: the contract's pattern, lower-cased (the index and every look-up rely on
# it; an admin edit that broke it would break every index refresh).
STORED_USERNAME_RE = re.compile(r"\A[a-z0-9_-]{2,16}\Z")


def validate_stored_username(value) -> None:
    if not isinstance(value, str) or not STORED_USERNAME_RE.match(value):
        raise ValidationError(
            "A username is 2 to 16 lower-case letters (a-z), digits, '_' or '-'.",
            code="invalid_username")


class MalUser(models.Model):
    username = models.CharField(max_length=16, unique=True, help_text="Lower-cased.",
                                validators=[validate_stored_username])
    hash = Uint64Field(null=True, blank=True, help_text="64-bit taste hash; empty until computed.")
    list_synced_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sync of the list with MyAnimeList, full or incremental."
    )
    full_synced_at = models.DateTimeField(
        null=True, blank=True, help_text="Last full sync (drops entries deleted on MyAnimeList)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "MAL user"
        indexes = [models.Index(fields=["list_synced_at"])]

    def __str__(self):
        return self.username

    @property
    def hash_hex(self) -> str | None:
        return None if self.hash is None else format_hash(self.hash)


class ListEntry(models.Model):
    class Status(models.TextChoices):
        WATCHING = "watching"
        COMPLETED = "completed"
        ON_HOLD = "on_hold"
        DROPPED = "dropped"
        PLAN_TO_WATCH = "plan_to_watch"

    user = models.ForeignKey(MalUser, on_delete=models.CASCADE, related_name="entries")
    # No database constraint: a list may name anime the catalog does not know yet.
    anime = models.ForeignKey(
        "recommendations.Anime", on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    score = models.PositiveSmallIntegerField(default=0, help_text="0 means not scored.")
    episodes_watched = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(help_text="When the user last changed the entry on MAL.")

    class Meta:
        verbose_name_plural = "list entries"
        constraints = [
            models.UniqueConstraint(fields=["user", "anime"], name="one_entry_per_user_and_anime"),
            models.CheckConstraint(condition=models.Q(score__lte=10), name="score_at_most_10"),
        ]

    def __str__(self):
        return f"{self.user_id}:{self.anime_id} {self.status} {self.score}"

    @property
    def is_watched(self) -> bool:
        return self.status == self.Status.COMPLETED or (
            self.status == self.Status.WATCHING and self.episodes_watched > 0
        )


def watched_q(prefix: str = "") -> models.Q:
    """Entries that count as watched: completed, or watching with an episode seen."""
    return models.Q(**{f"{prefix}status": ListEntry.Status.COMPLETED}) | models.Q(
        **{f"{prefix}status": ListEntry.Status.WATCHING, f"{prefix}episodes_watched__gt": 0}
    )
