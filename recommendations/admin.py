from django.contrib import admin
from django.db import models
from django.utils.html import format_html, format_html_join

from recommendations import live_index
from recommendations.models import Anime, IndexChange, SimilaritySnapshot
from recommendations.engine.similarity import similarity
from recommendations.engine.taste_hash import format_hash
from users.models import MalUser

NEIGHBOURS_SHOWN = 64


class IndexFeedAdminMixin:
    """Admin writes go through the index change feed like any other write, so that every
    process's in-memory index (catalog, hashes, entries) sees them within seconds."""

    feed_kind = IndexChange.Kind.ANIME

    def feed_id(self, obj) -> int:
        return obj.pk

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        live_index.record_changes(self.feed_kind, [self.feed_id(obj)])

    def delete_model(self, request, obj):
        feed_id = self.feed_id(obj)
        super().delete_model(request, obj)
        live_index.record_changes(self.feed_kind, [feed_id])

    def delete_queryset(self, request, queryset):
        feed_ids = {self.feed_id(obj) for obj in queryset}
        super().delete_queryset(request, queryset)
        live_index.record_changes(self.feed_kind, sorted(feed_ids))


@admin.register(Anime)
class AnimeAdmin(IndexFeedAdminMixin, admin.ModelAdmin):
    list_display = ("id", "title", "media_type", "episodes", "mean", "rating", "airing_status",
                    "start_date", "parent_id", "updated_at")
    list_filter = ("airing_status", "rating", "media_type")
    search_fields = ("title", "=id")
    raw_id_fields = ("parent",)
    readonly_fields = ("genre_names", "updated_at")
    # MAL picture URLs are https; also silences Django 6.0's change of the default scheme.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="genre names")
    def genre_names(self, anime):
        return ", ".join(anime.genre_names)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Derived data, written only by the service: shown, never added, edited or deleted
    by hand (an edited change feed or snapshot would mislead every process)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SimilaritySnapshot)
class SimilaritySnapshotAdmin(ReadOnlyAdmin):
    list_display = ("user", "hash_hex", "computed_at", "neighbour_count")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
    list_select_related = ("user",)
    readonly_fields = ("neighbours",)
    exclude = ("neighbour_ids", "distances")

    @admin.display(description="hash (hex)")
    def hash_hex(self, snapshot):
        return format_hash(snapshot.hash)

    @admin.display(description="neighbours")
    def neighbour_count(self, snapshot):
        return len(snapshot.neighbour_ids)

    @admin.display(description="nearest neighbours")
    def neighbours(self, snapshot):
        return neighbour_table(snapshot)


@admin.register(IndexChange)
class IndexChangeAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "object_id", "created_at")
    list_filter = ("kind",)
    search_fields = ("=object_id",)


def neighbour_table(snapshot: SimilaritySnapshot):
    """The first neighbours of a snapshot, one line each: rank, username, similarity."""
    shown = list(zip(snapshot.neighbour_ids, snapshot.distances))[:NEIGHBOURS_SHOWN]
    names = MalUser.objects.in_bulk([uid for uid, _ in shown])
    rows = [
        (rank, names[uid].username if uid in names else f"#{uid} (deleted)",
         int(similarity(dist)))
        for rank, (uid, dist) in enumerate(shown, 1)
    ]
    # format_html escapes its arguments into strings first: format the date beforehand.
    header = format_html(
        "from hash {} at {} UTC, {} neighbours; the first {}:<br>",
        format_hash(snapshot.hash), f"{snapshot.computed_at:%Y-%m-%d %H:%M}",
        len(snapshot.neighbour_ids), len(rows))
    return header + format_html_join("", "{}. {} ({}% similar)<br>", rows)
