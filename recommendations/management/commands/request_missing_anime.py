from django.core.management.base import BaseCommand, CommandError

from recommendations.catalog_sync import CatalogSyncError, anime_fetch_details, anime_missing_ids
from users import mal_client


class Command(BaseCommand):
    help = ("Fetch from MyAnimeList the anime that list entries name but the catalog lacks, "
            "then catalog anime whose related anime (parents) were never read; rehash the "
            "users concerned. Costs one MAL request per anime.")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500,
                            help="Most anime to fetch in this run (default 500).")

    def handle(self, *args, **options):
        if not mal_client.configured():
            raise CommandError(mal_client.NOT_CONFIGURED)
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        try:
            summary = anime_fetch_details(anime_ids=anime_missing_ids(limit=options["limit"]),
                                          progress=options["verbosity"] > 0)
        except CatalogSyncError as error:
            raise CommandError(f"{error} ({error.summary})") from error
        self.stdout.write(self.style.SUCCESS(str(summary)))
