"""Production serving as an operator runs it: gunicorn with the repository's
gunicorn.conf.py, DEBUG=0, static files collected, over HTTP."""
import re
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import requests
from tests.live import clean_env, free_port, manage, production_env
from tests.metrics_scrape import samples, total

ADMIN_PASSWORD = "a-long-admin-password-for-tests"
WAIT_SECONDS = 30


def _local_assets(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


def _wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {WAIT_SECONDS} s: {what}")


def test_the_admin_is_styled_and_logs_in_and_the_docs_load_locally(
        live_service, live_database_url, static_root):
    env = production_env(live_database_url, STATIC_ROOT=str(static_root))
    manage({**env, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD}, "createsuperuser",
           "--noinput", "--username", "maintainer", "--email", "m@example.org")
    server = live_service(env)
    session = requests.Session()

    login = session.get(f"{server.url}/admin/login/", timeout=10)
    assert login.status_code == 200
    [css] = [url for url in _local_assets(login.text) if url.endswith(".css")
             and "/admin/css/base." in url]
    assert re.search(r"/static/admin/css/base\.[0-9a-f]{12}\.css$", css)  # hashed name
    stylesheet = session.get(urljoin(server.url, css), timeout=10)
    assert stylesheet.status_code == 200
    assert stylesheet.headers["Content-Type"].startswith("text/css")
    assert "immutable" in stylesheet.headers["Cache-Control"]
    for asset in _local_assets(login.text):
        if asset.startswith("/static/"):
            assert session.get(urljoin(server.url, asset), timeout=10).status_code == 200, asset

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    signed_in = session.post(f"{server.url}/admin/login/?next=/admin/", timeout=10, data={
        "csrfmiddlewaretoken": token, "username": "maintainer", "password": ADMIN_PASSWORD,
        "next": "/admin/"}, headers={"Referer": f"{server.url}/admin/login/"})
    assert signed_in.status_code == 200 and signed_in.url == f"{server.url}/admin/"
    assert "Site administration" in signed_in.text
    users = session.get(f"{server.url}/admin/users/maluser/", timeout=30)
    assert users.status_code == 200 and "demo_user_" in users.text

    docs = requests.get(f"{server.url}/docs", timeout=10)
    assert docs.status_code == 200 and docs.headers["Content-Type"].startswith("text/html")
    assets = _local_assets(docs.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset  # no CDN
        assert requests.get(urljoin(server.url, asset), timeout=10).status_code == 200, asset
    assert 'url: "/schema"' in docs.text
    assert requests.get(f"{server.url}/schema", timeout=10).status_code == 200


def test_workers_build_the_index_at_start_and_metrics_add_up_all_workers(
        live_service, live_database_url):
    server = live_service(production_env(live_database_url, LOG_LEVEL="INFO"), workers=2)

    # No API request has been made: the workers built their index by themselves.
    _wait_for(lambda: server.log().count("Similarity index built: 549 users") == 2,
              "both workers built their index")
    ready = requests.get(f"{server.url}/health/ready", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {
        "database": "ok", "cache": "ok", "index": "ok"}}

    before = samples(requests.get(f"{server.url}/metrics", timeout=10).text)
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(
            lambda _: requests.get(f"{server.url}/demo_user_001/similar", timeout=30).status_code,
            range(12)))
    assert statuses == [200] * 12
    after = samples(requests.get(f"{server.url}/metrics", timeout=10).text)

    count = "reko_http_request_duration_seconds_count"
    labels = {"route": "<str:username>/similar", "method": "GET", "status": "200"}
    assert total(after, count, **labels) - total(before, count, **labels) == 12
    assert total(after, "reko_index_users") == 549
    assert total(after, "reko_index_build_seconds_count") == 2
    assert total(after, "reko_index_last_poll_timestamp_seconds") > 0
    assert "200 GET /demo_user_001/similar" in server.log()  # the request log


def test_a_failure_outside_the_api_views_is_logged_not_shown(live_service, tmp_path):
    # Tables missing: the admin's session lookup fails in Django's middleware, not in DRF.
    broken = f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}"
    server = live_service(production_env(broken, LOG_LEVEL="INFO"))

    response = requests.get(f"{server.url}/admin/", cookies={"sessionid": "x" * 32},
                            timeout=10)

    assert response.status_code == 500
    assert response.json() == {"code": 500, "id": "InternalError",
                               "message": "Something went wrong on our side."}
    assert b"Traceback" not in response.content and b"django_session" not in response.content
    log = server.log()
    assert "Traceback" in log and "django_session" in log
    assert "500 GET /admin/ " in log


def test_ready_is_503_while_the_database_is_down_and_reports_the_cache(live_service):
    nothing_here = free_port()
    env = production_env(f"postgres://postgres@127.0.0.1:{nothing_here}/reko",
                         REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    server = live_service(env, workers=1)

    assert requests.get(f"{server.url}/health/live", timeout=10).json() == {"status": "ok"}
    ready = requests.get(f"{server.url}/health/ready", timeout=10)
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "checks": {
        "database": "unavailable", "cache": "unavailable", "index": "building"}}
    assert ready.headers["Cache-Control"] == "no-store"


def test_behind_a_tls_proxy_http_is_redirected_and_https_gets_hsts(
        live_service, live_database_url):
    env = production_env(live_database_url, HTTPS="1", TRUSTED_PROXY_COUNT="1")
    server = live_service(env)

    plain = requests.get(f"{server.url}/version", allow_redirects=False, timeout=10,
                         headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "1.2.3.4"})
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"https://127.0.0.1:{server.port}/version"
    secure = requests.get(f"{server.url}/version", timeout=10,
                          headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"})
    assert (secure.status_code, secure.text) == (200, "1.0.0")
    assert secure.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload")
    # Probes come over plain HTTP from inside the network and are not redirected (503
    # while a worker still builds its index, then 200).
    _wait_for(lambda: requests.get(f"{server.url}/health/ready", allow_redirects=False,
                                   timeout=10).status_code == 200, "ready over plain HTTP")


def test_runserver_builds_the_index_when_first_probed(live_service, live_database_url):
    env = clean_env(DEBUG="1", DATABASE_URL=live_database_url)
    server = live_service(env, server="runserver")

    # Nothing has built the index yet (the liveness probe does not): this probe starts it.
    first = requests.get(f"{server.url}/health/ready", timeout=10)
    assert first.status_code == 503
    assert first.json()["checks"]["index"] == "building"
    _wait_for(lambda: requests.get(f"{server.url}/health/ready", timeout=10).status_code == 200,
              "runserver ready")
