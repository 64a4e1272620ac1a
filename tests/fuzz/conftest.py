"""The fuzz and hostile-input tests use the MAL tests' fake server and its fast settings."""
from tests.mal.conftest import api, fake_mal  # noqa: F401  (fixtures, re-exported)
