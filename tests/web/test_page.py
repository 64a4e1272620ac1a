"""The page's route at / seen through Django's test client: what it serves, and that it
stays out of the API's rules (rate limit, plain-text 405/404) without touching them."""
import re

import pytest

from reko.settings import STORAGES as PRODUCTION_STORAGES
from web.views import OPT_IN_ALGORITHM


@pytest.mark.django_db
def test_the_root_serves_the_page_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert '<label for="username">Your MyAnimeList username</label>' in html
    assert '<script type="module" src="/static/web/js/app.js"></script>' in html
    assert f'data-opt-in-algorithm="{OPT_IN_ALGORITHM}"' in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.fixture
def collected_static(settings, static_root):
    """Static files as production serves them: collected, with hashed names (the suite's
    own settings use plain names without collectstatic)."""
    settings.STATIC_ROOT = static_root
    settings.STORAGES = PRODUCTION_STORAGES


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.django_db  # closing a response closes stale database connections
def test_every_asset_the_page_names_is_served_collected(client, collected_static):
    html = client.get("/").content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    app_js = next(a for a in assets if a.endswith(".js"))

    assert re.fullmatch(r"/static/web/js/app\.[0-9a-f]{12}\.js", app_js)  # cached for good
    assert {re.sub(r"\.[0-9a-f]{12}\.", ".", a) for a in assets} == {
        "/static/web/app.css", "/static/web/js/app.js", "/static/web/icon.svg"}
    for path in assets:
        assert client.get(path).status_code == 200, path
    # The modules app.js imports, by the names it imports them with.
    imported = re.findall(r'from "\./([a-z]+\.js)"', _body(client.get(app_js)).decode())
    assert sorted(imported) == ["api.js", "cards.js", "dom.js", "store.js"]
    for name in imported:
        response = client.get(f"/static/web/js/{name}")
        assert response.status_code == 200 and _body(response), name
        assert response["Content-Type"].startswith("text/javascript")


@pytest.mark.django_db  # closing a response closes stale database connections
def test_the_page_is_not_rate_limited_but_the_api_still_is(client, settings, collected_static):
    settings.RATELIMIT_RATE = "2/m"
    for _ in range(4):
        assert client.get("/").status_code == 200
        asset = client.get("/static/web/app.css")
        asset.close()
        assert asset.status_code == 200

    answers = [client.get("/version").status_code for _ in range(3)]

    assert answers == [200, 200, 503]


def test_the_page_answers_other_methods_like_the_api(client):
    response = client.post("/")
    assert (response.status_code, response.content) == (405, b"Method not allowed")
    assert response["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("path", ["/index.html", "/demo_user_001", "/static/web/missing.js"])
def test_unknown_paths_keep_the_contracts_plain_404(client, path):
    response = client.get(path)
    assert (response.status_code, response.content) == (404, b"Resource not found")
