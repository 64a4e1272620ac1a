import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from reko.exceptions import ApiError
from users.mal_export import MalExportError, read_mal_export
from users.services import mal_user_store_list


class Command(BaseCommand):
    help = ("Import the anime list export (.xml or .xml.gz) a MyAnimeList user downloads "
            "from their profile, replacing that user's stored list, and hash them. The file "
            "is checked in full first; nothing is written if any record is bad. Such users "
            "are not refreshed from MAL by requests (sync_users NAME does). No MAL calls.")

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")

    def handle(self, *args, **options):
        try:
            export = read_mal_export(options["file"], now=dt.datetime.now(dt.timezone.utc))
        except MalExportError as error:
            raise CommandError(f"Nothing imported: {error}") from error
        try:
            user = mal_user_store_list(username=export.username, entries=export.entries,
                                       full=True, synced_at=None)
        except ApiError as error:
            raise CommandError(f"Nothing imported: {error.message}") from error
        self.stdout.write(self.style.SUCCESS(
            f"Imported {user.username}: {len(export.entries)} list entries, hash {user.hash_hex}."))
