"""What the commands that fetch anime details from MyAnimeList have in common."""
from django.core.management.base import BaseCommand, CommandError

from recommendations.catalog_sync import CatalogSyncError, anime_fetch_details
from users import mal_client


class AnimeFetchCommand(BaseCommand):
    """Fetch the details of at most ``--limit`` anime chosen by ``anime_ids``."""

    default_limit = 100

    def anime_ids(self, *, limit: int) -> list[int]:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=self.default_limit,
                            help=f"Most anime to fetch in this run (default {self.default_limit}).")

    def handle(self, *args, **options):
        if not mal_client.configured():
            raise CommandError(mal_client.NOT_CONFIGURED)
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        try:
            summary = anime_fetch_details(anime_ids=self.anime_ids(limit=options["limit"]),
                                          progress=options["verbosity"] > 0)
        except CatalogSyncError as error:
            raise CommandError(f"{error} ({error.summary})") from error
        self.stdout.write(self.style.SUCCESS(str(summary)))
