import pytest
from django.core.cache import cache

from recommendations import live_index


@pytest.fixture(autouse=True)
def fresh_state():
    """Every test starts with no in-memory index and an empty cache (rate-limit counters)."""
    live_index.reset_index()
    cache.clear()
    yield
    live_index.reset_index()
