"""Reko: anime recommendations from MyAnimeList users with a similar taste."""

API_VERSION = "1.0.0"
