from recommendations.catalog_sync import anime_missing_ids
from recommendations.management.anime_fetch import AnimeFetchCommand


class Command(AnimeFetchCommand):
    help = ("Fetch from MyAnimeList the anime that list entries name but the catalog lacks, "
            "then catalog anime whose related anime (parents) were never read; rehash the "
            "users concerned. Costs one MAL request per anime.")
    default_limit = 500

    def anime_ids(self, *, limit):
        return anime_missing_ids(limit=limit)
