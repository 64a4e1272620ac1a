from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    verbose_name = "Catalog and recommendations"

    def ready(self):
        # The site's deployment checks (they concern settings, not this app's models).
        from reko import checks  # noqa: F401
