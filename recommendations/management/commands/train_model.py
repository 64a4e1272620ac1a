import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recommendations import model_service


class Command(BaseCommand):
    help = ("Train the opt-in ranking (?algorithm=scored_ease) on every stored list and "
            "publish it under MODEL_DIR; serving workers switch to it within "
            "INDEX_POLL_SECONDS. Safe to run while serving; exits non-zero on failure.")

    def add_arguments(self, parser):
        parser.add_argument("--algorithm", choices=model_service.ALGORITHMS,
                            default=model_service.ALGORITHMS[0])

    def handle(self, *args, **options):
        started = time.monotonic()
        bar = tqdm(desc="train_model", unit="step", disable=options["verbosity"] < 1)

        def progress(name):
            bar.set_postfix_str(name, refresh=False)
            bar.update()

        try:
            loaded = model_service.train(algorithm=options["algorithm"], progress=progress)
        except (ValueError, OSError, MemoryError) as error:
            raise CommandError(f"Training {options['algorithm']} failed: {error}")
        finally:
            bar.close()
        meta = loaded.meta
        self.stdout.write(self.style.SUCCESS(
            f"Trained {meta['algorithm']} {loaded.version} on {meta['users']} users and "
            f"{meta['entries']} entries: {meta['anime']} anime, {meta['recommendable']} "
            f"recommendable, {meta['weights']} weights, in {time.monotonic() - started:.1f} s; "
            f"published in {model_service.model_folder(options['algorithm'])}."))
