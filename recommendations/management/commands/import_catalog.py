from django.core.management.base import BaseCommand, CommandError

from recommendations.catalog import catalog_store_details
from recommendations.catalog_files import CatalogFileError, parse_catalog_file


class Command(BaseCommand):
    help = ("Import anime metadata from a CSV file in the demo catalog's format or from "
            "MyAnimeList API anime JSON (one object, a list, or {\"data\": [{\"node\": ...}]}), "
            "optionally gzip-compressed. Known anime are updated; JSON objects with "
            "related_anime also set parents. The whole file is checked first; nothing is "
            "written if any record is bad. No MAL calls.")

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")

    def handle(self, *args, **options):
        try:
            records = parse_catalog_file(options["file"])
        except (CatalogFileError, OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Nothing imported: {error}") from error
        written = catalog_store_details(records=records)
        parents = sum(1 for r in records if r.parent_id)
        self.stdout.write(self.style.SUCCESS(
            f"Imported {written} anime ({parents} with a parent)."))
