"""The page's route at / seen through Django's test client: what it serves, and that it
stays out of the API's rules (rate limit, plain-text 405/404) without touching them."""
import re

import pytest

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


def test_every_asset_the_page_names_is_served_without_debug(client, settings):
    settings.DEBUG = False
    html = client.get("/").content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    scripts = {"api.js", "cards.js", "dom.js", "store.js"}  # imported by app.js

    assert {"/static/web/app.css", "/static/web/js/app.js", "/static/web/icon.svg"} <= set(assets)
    for path in assets + [f"/static/web/js/{name}" for name in scripts]:
        response = client.get(path)
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content)
        assert body, path
    app_js = b"".join(client.get("/static/web/js/app.js").streaming_content).decode()
    imported = set(re.findall(r'from "\./([a-z]+\.js)"', app_js))
    assert imported == scripts


@pytest.mark.django_db  # closing a response closes stale database connections
def test_the_page_is_not_rate_limited_but_the_api_still_is(client, settings):
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
