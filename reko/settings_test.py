"""The settings the suite runs with: production's own (``DEBUG`` off unless the
environment says otherwise), with a throwaway ``SECRET_KEY`` when none is set, since
production refuses to start without one."""
import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")
# The test client speaks plain HTTP (tests of the HTTPS rules set it themselves).
os.environ.setdefault("HTTPS", "0")

from reko.settings import *  # noqa: E402,F401,F403

# Static URLs without collectstatic's manifest, which production's storage reads
# (tests/test_live_serving.py runs collectstatic and checks that storage).
STORAGES = {**STORAGES, "staticfiles": {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
