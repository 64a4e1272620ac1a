from django.core.management.base import BaseCommand, CommandError

from users import mal_client
from users.sync import mal_users_update_old


class Command(BaseCommand):
    help = ("Refresh from MyAnimeList the stalest users whose list is older than "
            "USER_REFRESH_AFTER_DAYS (users imported from a file are left alone). "
            "Costs about one MAL request per user (more for full resyncs of long lists). "
            "Stops early if MyAnimeList is down or throttling; exits non-zero on any failure "
            "other than a user gone from MAL or gone private.")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=200,
                            help="Most users to refresh in this run (default 200).")

    def handle(self, *args, **options):
        if not mal_client.configured():
            raise CommandError(mal_client.NOT_CONFIGURED)
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        summary = mal_users_update_old(limit=options["limit"],
                                       progress=options["verbosity"] > 0)
        if summary.stopped or summary.errors:
            raise CommandError(str(summary))
        self.stdout.write(self.style.SUCCESS(str(summary)))
