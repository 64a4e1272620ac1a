"""The API's JSON renderer writes exactly the bytes DRF's JSONRenderer wrote."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict

from reko.renderers import FastJSONRenderer

SAMPLES = [
    {"requester": {"username": "demo_user_001", "hash": "8f3a"},
     "pagination": {"current": 2, "previous": 1, "next": None},
     "data": [{"id": 5114, "score": 9, "details": {
         "title": "Hagane no Renkinjutsushi: Fullmetal Alchemist", "mean": 9.1,
         "airing_date": "2009-04-05T00:00:00", "length": 64, "rating": "r",
         "picture": None, "genres": ["Action", "Adventure"]}, "users": []}]},
    {"title": "Kimi no Na wa. – 君の名は。 \"quoted\" \\ back\nslash\t\u2028\u2029 ☃ 😀"},
    # Floats from 1e-4 to 1e16 are spelled alike (the API's are means from 1 to 10).
    {"means": [7.0, 8.25, 10.0, 1.05, 6.666666666666667, 0.1, 0.0001, 12345678.9]},
    {"code": 400, "id": "InvalidQuery", "message": ErrorDetail("must be an integer")},
    ReturnDict({"nested": {"a": [1, -2, 2**63 - 1, -(2**63)]}}, serializer=None),
    {"lazy": gettext_lazy("Not found."), "when": dt.datetime(2024, 1, 2, 3, 4, 5,
                                                             tzinfo=dt.timezone.utc),
     "day": dt.date(2024, 1, 2), "price": Decimal("1.50")},
    {"big": 2**70},
    [], {}, "text", 0, True,
]


@pytest.mark.parametrize("data", SAMPLES)
def test_the_same_bytes_as_drfs_renderer(data):
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


def test_a_real_page_renders_the_same(client, db):
    from tests.factories import MalUserFactory
    MalUserFactory(username="req_user")
    response = client.get("/req_user/similar")
    assert response.status_code == 200
    assert response.content == JSONRenderer().render(response.json())
