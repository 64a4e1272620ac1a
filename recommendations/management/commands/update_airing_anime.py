from recommendations.catalog_sync import anime_airing_ids
from recommendations.management.anime_fetch import AnimeFetchCommand


class Command(AnimeFetchCommand):
    help = ("Refresh from MyAnimeList the catalog anime still airing or announced (not "
            "refreshed in the last 20 hours), then the least recently updated others. "
            "Costs one MAL request per anime.")
    default_limit = 100

    def anime_ids(self, *, limit):
        return anime_airing_ids(limit=limit)
