import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from recommendations.models import IndexChange


class Command(BaseCommand):
    help = ("Delete index change-feed rows older than --hours (default 24). Every running "
            "process applies a change within seconds, so old rows serve nobody.")

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=24.0)

    def handle(self, *args, **options):
        if options["hours"] < 0.1:
            raise CommandError("--hours must be at least 0.1: processes need time to see a change")
        cutoff = timezone.now() - dt.timedelta(hours=options["hours"])
        deleted, _ = IndexChange.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} index change rows older than {options['hours']:g} h.")
