"""factory_boy factories for the catalog, MAL users and their list entries."""
import datetime as dt

import factory
from django.utils import timezone

from recommendations.models import Anime
from users.models import ListEntry, MalUser


class AnimeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Anime
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: 10_000 + n)
    title = factory.LazyAttribute(lambda a: f"Anime {a.id}")
    mean = 7.5
    episodes = 12
    rating = "pg_13"
    start_date = dt.date(2015, 4, 1)
    genres = factory.LazyFunction(lambda: [1])  # Action
    media_type = "tv"


class MalUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MalUser

    username = factory.Sequence(lambda n: f"user_{n:04d}")
    hash = 0x8000_0000_0000_0000
    list_synced_at = factory.LazyFunction(timezone.now)
    full_synced_at = factory.LazyFunction(timezone.now)


class ListEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ListEntry

    user = factory.SubFactory(MalUserFactory)
    anime = factory.SubFactory(AnimeFactory)
    status = ListEntry.Status.COMPLETED
    score = 8
    episodes_watched = factory.LazyAttribute(lambda e: e.anime.episodes or 1)
    updated_at = factory.LazyFunction(timezone.now)
