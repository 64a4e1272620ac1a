import warnings

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "The page for people at /"

    def ready(self):
        # STATIC_ROOT exists only after a collectstatic; WhiteNoise serves the apps' own
        # static folders without it (WHITENOISE_USE_FINDERS), so its warning is noise.
        warnings.filterwarnings("ignore", message=r"No directory at: .*staticfiles",
                                category=UserWarning, module="whitenoise.base")
