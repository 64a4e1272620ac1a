from django.core.management.base import BaseCommand, CommandError

from recommendations.catalog_sync import CatalogSyncError, anime_airing_ids, anime_fetch_details
from users import mal_client


class Command(BaseCommand):
    help = ("Refresh from MyAnimeList the catalog anime still airing or announced (not "
            "refreshed in the last 20 hours), then the least recently updated others. "
            "Costs one MAL request per anime.")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=100,
                            help="Most anime to refresh in this run (default 100).")

    def handle(self, *args, **options):
        if not mal_client.configured():
            raise CommandError(mal_client.NOT_CONFIGURED)
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        try:
            summary = anime_fetch_details(anime_ids=anime_airing_ids(limit=options["limit"]),
                                          progress=options["verbosity"] > 0)
        except CatalogSyncError as error:
            raise CommandError(f"{error} ({error.summary})") from error
        self.stdout.write(self.style.SUCCESS(str(summary)))
