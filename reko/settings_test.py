"""The settings the suite runs with: production's own (``DEBUG`` off unless the
environment says otherwise), with a throwaway ``SECRET_KEY`` when none is set, since
production refuses to start without one."""
import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")

from reko.settings import *  # noqa: E402,F401,F403
