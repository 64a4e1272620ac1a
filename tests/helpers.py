"""Small builders shared by the API tests: users at a chosen hash distance, entries dated
a chosen number of years back, and JSON response checks."""
import datetime as dt

from django.utils import timezone

from recommendations.engine.similarity import MASK
from tests.factories import ListEntryFactory, MalUserFactory

REQUESTER_HASH = 0x8000_0000_0000_0000
# Bits outside the mask count once in the distance: flipping d of them gives distance d.
UNMASKED_BITS = [1 << i for i in range(64) if not (int(MASK) >> i) & 1]
JSON = "application/json"


def hash_at(distance: int, base: int = REQUESTER_HASH) -> int:
    value = base
    for bit in UNMASKED_BITS[:distance]:
        value ^= bit
    return value


def similarity_of(distance: int) -> int:
    return 100 - distance * 100 // 83


def user_at(distance: int, username: str, **fields):
    return MalUserFactory(username=username, hash=hash_at(distance), **fields)


def years_ago(years: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=365.25 * years)


def entry(user, anime, score, *, years=0.0, **fields):
    return ListEntryFactory(user=user, anime=anime, score=score, updated_at=years_ago(years),
                            **fields)


def json_ok(response, status=200) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == JSON
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()


def assert_error(response, status: int, error_id: str) -> dict:
    body = json_ok(response, status)
    assert set(body) == {"code", "id", "message"}
    assert body["code"] == status and body["id"] == error_id
    assert isinstance(body["message"], str) and body["message"]
    return body


def stored_rows() -> dict:
    """Every row a request or command could write: compare before and after a failure
    to check that it changed nothing."""
    from recommendations.models import Anime, IndexChange, SimilaritySnapshot
    from users.models import ListEntry, MalUser

    return {model.__name__: list(model.objects.order_by("pk").values())
            for model in (MalUser, ListEntry, Anime, SimilaritySnapshot, IndexChange)}
