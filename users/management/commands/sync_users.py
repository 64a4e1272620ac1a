from django.core.management.base import BaseCommand, CommandError

from users import mal_client
from users.sync import mal_users_sync


class Command(BaseCommand):
    help = ("Fetch the named MyAnimeList users now (unknown ones in full, known ones "
            "incrementally, or in full when due or with --full), and rehash them. "
            "Costs one MAL request per 1,000 list entries fetched.")

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="+", metavar="NAME")
        parser.add_argument("--full", action="store_true",
                            help="Fetch whole lists, dropping entries deleted on MAL.")

    def handle(self, *args, **options):
        if not mal_client.configured():
            raise CommandError(mal_client.NOT_CONFIGURED)
        names = options["usernames"]
        summary = mal_users_sync(usernames=names, full=options["full"], stop_on_outage=True,
                                 progress=options["verbosity"] > 0 and len(names) > 1)
        if summary.failures:
            raise CommandError(str(summary))
        self.stdout.write(self.style.SUCCESS(str(summary)))
