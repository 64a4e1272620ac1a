"""The production deployment as users meet it: gunicorn, DEBUG=0, over HTTP."""
import pytest
import requests

from tests.live import production_env

SECRET_CLIENT_ID = "mal-client-id-that-must-stay-secret"


@pytest.mark.parametrize("options", [
    {"server": "gunicorn", "workers": 2},
    {"server": "gunicorn", "workers": 1, "threads": 4},
    {"server": "runserver"},
], ids=["gunicorn-sync", "gunicorn-gthread", "runserver"])
def test_production_server_answers_the_contract(live_service, live_database_url, options):
    server = live_service(production_env(live_database_url), **options)

    version = requests.get(f"{server.url}/version", timeout=10)
    assert (version.status_code, version.text) == (200, "1.0.0")
    assert version.headers["Content-Type"] == "text/plain"

    page = requests.get(f"{server.url}/demo_user_001/recommendations?batch=2", timeout=30)
    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"] == "application/json"
    assert page.headers["Access-Control-Allow-Origin"] == "*"
    body = page.json()
    assert body["requester"]["username"] == "demo_user_001"
    assert body["pagination"] == {"current": 1, "previous": None, "next": 2}
    assert body["data"] and set(body["data"][0]) == {"id", "score", "details", "users"}

    bad = requests.get(f"{server.url}/demo_user_001/similar?page=x", timeout=10)
    assert bad.status_code == 400
    assert bad.json()["id"] == "InvalidQuery"

    missing = requests.get(f"{server.url}/demo_user_001/nothing/here", timeout=10)
    assert (missing.status_code, missing.text) == (404, "Resource not found")
    assert missing.headers["Content-Type"].startswith("text/plain")

    post = requests.post(f"{server.url}/demo_user_001/similar", timeout=10)
    assert (post.status_code, post.text) == (405, "Method not allowed")


def test_production_failure_is_json_without_debug_page_or_secrets(
        live_service, live_database_url, tmp_path):
    # A database file without tables: the server starts, every data route fails.
    broken = f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}"
    server = live_service(production_env(broken, MAL_CLIENT_ID=SECRET_CLIENT_ID))

    response = requests.get(f"{server.url}/demo_user_001/similar", timeout=10)

    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"code": 500, "id": "InternalError",
                               "message": "Something went wrong on our side."}
    for leak in (b"Traceback", b"<html", SECRET_CLIENT_ID.encode(), b"SECRET_KEY"):
        assert leak not in response.content
    assert "Traceback" in server.log()  # logged for the operator instead


def test_live_server_sees_rows_the_test_commits(live_service, shared_database_url):
    from tests.helpers import similarity_of, user_at

    user_at(0, "live_a")
    user_at(5, "live_b")
    server = live_service(production_env(shared_database_url), workers=1)

    response = requests.get(f"{server.url}/live_a/compare/live_b", timeout=10)

    assert response.status_code == 200, response.text
    assert response.json()["data"]["similarity"] == similarity_of(5)
