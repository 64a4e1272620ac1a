import pytest
from django.core.cache import cache

from recommendations import engine


@pytest.fixture(autouse=True)
def fresh_state():
    """Every test starts with no in-memory index and an empty cache (rate-limit counters)."""
    engine.reset_index()
    cache.clear()
    yield
    engine.reset_index()
