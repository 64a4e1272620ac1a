from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery

from recommendations.admin import IndexFeedAdminMixin, neighbour_table
from recommendations.models import Anime, IndexChange, SimilaritySnapshot
from users.models import ListEntry, MalUser
from users.services import mal_users_rehash


class ListEntryInline(admin.TabularInline):
    model = ListEntry
    fields = ("anime", "status", "score", "episodes_watched", "updated_at")
    raw_id_fields = ("anime",)
    ordering = ("-updated_at",)
    extra = 0
    show_change_link = True


@admin.register(MalUser)
class MalUserAdmin(IndexFeedAdminMixin, admin.ModelAdmin):
    feed_kind = IndexChange.Kind.USER

    list_display = ("username", "hash_hex", "entry_count", "list_synced_at", "full_synced_at",
                    "created_at")
    search_fields = ("username",)
    list_filter = ("list_synced_at", "full_synced_at")
    readonly_fields = ("hash_hex", "created_at", "updated_at", "latest_neighbours")
    fields = ("username", "hash", "hash_hex", "list_synced_at", "full_synced_at",
              "created_at", "updated_at", "latest_neighbours")
    inlines = [ListEntryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_entries=Count("entries"))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if any(formset.has_changed() for formset in formsets):
            rehash_users([form.instance.pk])  # the inline list entries were edited

    @admin.display(description="hash (hex)")
    def hash_hex(self, user):
        return user.hash_hex

    @admin.display(description="entries", ordering="_entries")
    def entry_count(self, user):
        return user._entries

    @admin.display(description="latest neighbour snapshot")
    def latest_neighbours(self, user):
        snapshot = SimilaritySnapshot.objects.filter(user=user).first()
        return "none yet" if snapshot is None else neighbour_table(snapshot)


def rehash_users(user_ids) -> None:
    """Recompute the hashes an entry edit invalidated (and tell the index): a user left with
    nothing that counts loses their hash, and with it their place in the index."""
    user_ids = sorted({int(i) for i in user_ids if i is not None})
    if user_ids:
        mal_users_rehash(user_ids=user_ids)


@admin.register(ListEntry)
class ListEntryAdmin(admin.ModelAdmin):
    list_display = ("user", "anime_id", "anime_title", "status", "score", "episodes_watched",
                    "updated_at")
    list_filter = ("status", "score")
    search_fields = ("user__username",)
    raw_id_fields = ("user", "anime")
    list_select_related = ("user",)
    date_hierarchy = "updated_at"

    def save_model(self, request, obj, form, change):
        before = ListEntry.objects.filter(pk=obj.pk).values_list("user_id", flat=True).first() \
            if change else None
        super().save_model(request, obj, form, change)
        rehash_users([before, obj.user_id])

    def delete_model(self, request, obj):
        user_id = obj.user_id
        super().delete_model(request, obj)
        rehash_users([user_id])

    def delete_queryset(self, request, queryset):
        user_ids = set(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        rehash_users(user_ids)

    def get_queryset(self, request):
        # A subquery, not select_related: the join would hide entries whose anime the
        # catalog does not know.
        title = Anime.objects.filter(id=OuterRef("anime_id")).values("title")[:1]
        return super().get_queryset(request).annotate(_title=Subquery(title))

    @admin.display(description="title", ordering="_title")
    def anime_title(self, entry):
        return entry._title or "(not in catalog)"
