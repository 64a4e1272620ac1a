"""The OpenAPI schema at /schema describes the routes and their integer query values."""
import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_lists_every_route_with_integer_page_and_batch(client):
    response = client.get("/schema?format=json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    paths = response.json()["paths"]
    assert set(paths) >= {
        "/{username}/similar", "/{username}/compare/{other}", "/{username}/recommendations",
        "/{username}/recommendations/{other}", "/{username}/random",
    }
    params = {p["name"]: p for p in paths["/{username}/recommendations"]["get"]["parameters"]}
    assert params["page"]["schema"]["type"] == "integer"
    assert params["batch"]["schema"]["type"] == "integer"
