"""The opt-in trained ranking under gunicorn (2 workers, DEBUG=0) on the demo data:
untrained answer, training while serving, every worker switching to the new version, and
no error or mixed answer for the clients that ask during a retrain."""
import threading
import time

import requests

from tests.live import manage, production_env

URL = "/demo_user_001/recommendations?algorithm=scored_ease"
WAIT_SECONDS = 30


def _ids(response) -> list[int]:
    return [item["id"] for item in response.json()["data"]]


def test_gunicorn_workers_serve_the_model_and_switch_during_a_retrain(
        live_service, live_database_url, tmp_path):
    env = production_env(live_database_url, MODEL_DIR=str(tmp_path / "models"),
                         RATELIMIT_ENABLE="0", INDEX_POLL_SECONDS="0.2")
    server = live_service(env, workers=2)
    untrained = requests.get(server.url + URL, timeout=30)
    assert untrained.status_code == 503 and untrained.json()["id"] == "ModelNotTrained"

    summary = manage(env, "train_model", "-v0")
    assert summary.startswith("Trained scored_ease ") and summary.count("\n") == 1
    old = _ids(requests.get(server.url + URL, timeout=30))
    assert len(old) == 16
    # The top anime leaves every other list: the next model cannot offer it.
    manage(env, "shell", "-c", (
        "from users.models import ListEntry; "
        f"ListEntry.objects.filter(anime_id={old[0]}).exclude(user__username='demo_user_001')"
        ".delete()"))

    answers, stop = [], threading.Event()

    def ask():
        session = requests.Session()
        while not stop.is_set() and len(answers) < 2_000:
            answers.append(session.get(server.url + URL, timeout=30))

    clients = [threading.Thread(target=ask) for _ in range(2)]
    for client in clients:
        client.start()
    try:
        manage(env, "train_model", "-v0")
        deadline = time.monotonic() + WAIT_SECONDS
        new = old
        while new == old and time.monotonic() < deadline:  # every worker within a poll
            new = _ids(requests.get(server.url + URL, timeout=30))
        settled = [_ids(requests.get(server.url + URL, timeout=30)) for _ in range(6)]
    finally:
        stop.set()
        for client in clients:
            client.join(60)
    assert new != old and old[0] not in new
    assert all(ids == new for ids in settled)  # both workers moved on
    assert answers and all(response.status_code == 200 for response in answers)
    assert all(_ids(response) in (old, new) for response in answers)
