from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recommendations.catalog_files import CatalogFileError
from recommendations.demo import DEMO_DIR, demo_load
from users.models import MalUser


class Command(BaseCommand):
    help = ("Import the demo catalog, sequel links and demo users' lists shipped in "
            "data/demo/, and hash every user. Safe to run again: it replaces the demo rows.")

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", default=str(DEMO_DIR),
                            help="Folder with anime.csv.gz, sequels.csv, demo_lists.csv.gz.")
        parser.add_argument("--if-empty", action="store_true",
                            help="Do nothing when the database already has users.")

    def handle(self, *args, **options):
        if options["if_empty"] and MalUser.objects.exists():
            self.stdout.write("Users already stored; demo data not loaded again.")
            return
        try:
            summary = demo_load(data_dir=Path(options["data_dir"]),
                                progress=options["verbosity"] > 0)
        except (CatalogFileError, OSError) as error:
            raise CommandError(f"Demo data not loaded: {error}") from error
        self.stdout.write(self.style.SUCCESS(str(summary)))
