import shlex
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recommendations.catalog_files import CatalogFileError
from recommendations.evaluation import report
from recommendations.evaluation.methods import METHODS
from recommendations.evaluation.run import FOLDS, evaluate
from recommendations.evaluation_sources import dataset_from_db, dataset_from_files


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


class Command(BaseCommand):
    help = ("Measure the recommendation methods offline: each test user (at least 20 "
            "watched, scored entries) hides a random 20% of the entries they scored 7+, "
            "and every method's top 32 (trained per fold of test users, without that "
            "fold's hidden entries) is scored against the hidden anime (NDCG@16, "
            "HitRate@16, Recall@32, MRR, coverage, popularity, with 95% bootstrap "
            "intervals). Reads the database, or --lists with --catalog (and --sequels). "
            "Writes evaluation.md, evaluation.json and evaluation.png under --out. "
            "Nothing is written to the database.")

    def add_arguments(self, parser):
        parser.add_argument("--lists", type=Path, help="lists in the demo format "
                            "(username,anime_id,score,status[,watched_episodes]; .gz allowed)")
        parser.add_argument("--catalog", type=Path, help="catalog file as import_catalog "
                            "reads it (required with --lists)")
        parser.add_argument("--sequels", type=Path, help="mal_id,continues_into_mal_id links")
        parser.add_argument("--out", type=Path, default=Path("evaluation"),
                            help="output folder (default: evaluation)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument("--users", type=_positive, help="sample this many test users")
        parser.add_argument("--folds", type=_positive, default=FOLDS,
                            help=f"train each method once per fold of test users, without "
                            f"only that fold's hidden entries (default {FOLDS}; 1: all at once)")
        parser.add_argument("--methods", default=",".join(METHODS),
                            help=f"comma-separated, from {', '.join(METHODS)} (default: all)")

    def handle(self, *args, **options):
        methods = [m.strip() for m in options["methods"].split(",") if m.strip()]
        unknown = [m for m in methods if m not in METHODS]
        if unknown or not methods:
            raise CommandError(f"Unknown method(s) {', '.join(unknown) or '(none given)'}; "
                               f"known: {', '.join(METHODS)}")
        dataset = self._dataset(options)
        evaluation = evaluate(dataset, seed=options["seed"], users=options["users"],
                              methods=methods, folds=options["folds"],
                              progress=options["verbosity"] > 0)
        if not evaluation.users:
            raise CommandError("No test user: none has at least 20 watched, scored entries "
                               "with a recommendable anime among those scored 7 or more.")
        paths = report.write_all(evaluation, options["out"], command=_command_line(options))
        ndcg = ", ".join(f"{r.name} {r.values['ndcg@16']:.3f}" for r in evaluation.methods)
        self.stdout.write(self.style.SUCCESS(
            f"Evaluated {len(methods)} methods on {evaluation.users} test users "
            f"(seed {evaluation.seed}): NDCG@16 {ndcg}; wrote "
            f"{', '.join(str(p) for p in paths)}."))

    def _dataset(self, options):
        if options["lists"] is None:
            if options["catalog"] or options["sequels"]:
                raise CommandError("--catalog and --sequels go with --lists")
            return dataset_from_db()
        if options["catalog"] is None:
            raise CommandError("--lists needs --catalog")
        try:
            return dataset_from_files(lists=options["lists"], catalog=options["catalog"],
                                      sequels=options["sequels"])
        except (CatalogFileError, OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Nothing evaluated: {error}") from error


def _command_line(options) -> str:
    """The command that reproduces this run, for the report."""
    words = ["python", "manage.py", "evaluate"]
    for name in ("lists", "catalog", "sequels"):
        if options[name] is not None:
            words += [f"--{name}", str(options[name])]
    words += ["--seed", str(options["seed"])]
    if options["users"] is not None:
        words += ["--users", str(options["users"])]
    if options["folds"] != FOLDS:
        words += ["--folds", str(options["folds"])]
    if options["methods"] != ",".join(METHODS):
        words += ["--methods", options["methods"]]
    words += ["--out", str(options["out"])]
    return shlex.join(words)
