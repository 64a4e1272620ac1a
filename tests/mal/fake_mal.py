"""A small fake of the MyAnimeList API v2 over a real socket, for tests only.

It serves ``GET /v2/users/{name}/animelist`` (``sort=list_updated_at``, ``limit``/``offset``
paging with absolute ``paging.next`` URLs, node fields as asked in ``fields``) and
``GET /v2/anime/{id}`` (with ``related_anime`` when asked), answers 403 for private users
and 404 for unknown ones, checks ``X-MAL-CLIENT-ID``, plays scripted failures (429 with
``Retry-After``, 5xx, persistent or a given number of times), can be slow on chosen paths
(a fixed delay, or held until the test lets go: ``hold`` / ``let_go``), and logs every
request so tests can count them.
"""
import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

DEFAULT_FIELDS = ("id", "title", "main_picture")
HOLD_SECONDS = 60.0  # the longest a held request waits, should a test forget to let go


def anime_json(anime_id: int, *, title: str | None = None, genres=(1, 4), start_date="2015-04-01",
               num_episodes=12, rating="pg_13", mean=7.5, status="finished_airing",
               media_type="tv", related=()) -> dict:
    """An anime object the way MAL writes it; ``related`` is ``[(id, relation_type)]``."""
    return {
        "id": anime_id, "title": title or f"Anime {anime_id}",
        "main_picture": {"medium": f"https://cdn.example/{anime_id}.jpg",
                         "large": f"https://cdn.example/{anime_id}l.jpg"},
        "genres": [{"id": g, "name": f"Genre {g}"} for g in genres],
        "start_date": start_date, "num_episodes": num_episodes, "rating": rating, "mean": mean,
        "status": status, "media_type": media_type,
        "related_anime": [{"node": {"id": i, "title": f"Anime {i}"}, "relation_type": kind,
                           "relation_type_formatted": kind.replace("_", " ").title()}
                          for i, kind in related],
    }


def list_item(anime: dict, *, status="completed", score=8, episodes=12,
              updated_at: dt.datetime | None = None) -> dict:
    updated_at = updated_at or dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    return {"node": anime, "list_status": {
        "status": status, "score": score, "num_episodes_watched": episodes,
        "is_rewatching": False, "updated_at": updated_at.isoformat(timespec="seconds"),
    }}


class FakeMal:
    def __init__(self, *, client_id: str = "test-client-id"):
        self.client_id = client_id
        self.lists: dict[str, list[dict]] = {}  # lower-cased user -> list items
        self.anime: dict[int, dict] = {}
        self.private: set[str] = set()
        self.slow: dict[str, float] = {}  # path prefix -> seconds to wait before answering
        self._held: dict[str, threading.Event] = {}  # path prefix -> released when set
        self.holding = 0  # requests being held right now
        self._scripts: list[dict] = []
        self.log: list[tuple[float, str]] = []  # (time, path with query)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v2"

    def start(self) -> "FakeMal":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- set-up ---------------------------------------------------------------------

    def add_user(self, name: str, items: list[dict]) -> None:
        self.lists[name.lower()] = list(items)
        for item in items:
            self.anime.setdefault(item["node"]["id"], item["node"])

    def fail(self, prefix: str, status: int, *, times: int | None = None,
             retry_after: int | None = None, body: bytes | None = None) -> None:
        """Answer ``status`` to requests whose path starts with ``prefix`` (``times`` times,
        or until ``clear_failures``)."""
        with self.lock:
            self._scripts.append({"prefix": prefix, "status": status, "left": times,
                                  "retry_after": retry_after, "body": body})

    def clear_failures(self) -> None:
        with self.lock:
            self._scripts.clear()

    def hold(self, prefix: str) -> None:
        """Keep requests whose path starts with ``prefix`` waiting until ``let_go`` (a MAL
        as slow as the test wants, without timing anything); at most HOLD_SECONDS."""
        with self.lock:
            self._held[prefix] = threading.Event()

    def let_go(self) -> None:
        with self.lock:
            held, self._held = list(self._held.values()), {}
        for event in held:
            event.set()

    def wait_until_holding(self, count: int, timeout: float = 30.0) -> None:
        """Return once ``count`` requests are being held (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.holding >= count:
                    return
            time.sleep(0.01)
        raise AssertionError(f"only {self.holding} of {count} requests reached the fake MAL")

    # --- inspection -----------------------------------------------------------------

    def requests(self, prefix: str = "") -> list[str]:
        with self.lock:
            return [path for _, path in self.log if path.startswith(prefix)]

    # --- serving --------------------------------------------------------------------

    def _scripted(self, path: str) -> dict | None:
        with self.lock:
            for script in self._scripts:
                if path.startswith(script["prefix"]) and script["left"] != 0:
                    if script["left"] is not None:
                        script["left"] -= 1
                    return script
        return None

    def respond(self, path: str, query: dict, headers) -> tuple[int, dict, dict]:
        if headers.get("X-MAL-CLIENT-ID") != self.client_id:
            return 401, {}, {"error": "invalid_token", "message": "missing client id"}
        for prefix, seconds in self.slow.items():
            if path.startswith(prefix):
                time.sleep(seconds)
        with self.lock:
            held = [event for prefix, event in self._held.items() if path.startswith(prefix)]
            self.holding += len(held)
        for event in held:
            event.wait(HOLD_SECONDS)
            with self.lock:
                self.holding -= 1
        script = self._scripted(path)
        if script is not None:
            extra = {"Retry-After": str(script["retry_after"])} if script["retry_after"] else {}
            return script["status"], extra, script["body"] or {"error": "scripted"}
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["v2", "users"] and parts[3] == "animelist":
            return self._animelist(parts[2].lower(), query)
        if len(parts) == 3 and parts[:2] == ["v2", "anime"] and parts[2].isdigit():
            return self._anime(int(parts[2]), query)
        return 404, {}, {"error": "not_found"}

    def _fields(self, query: dict) -> set[str]:
        return set(",".join(query.get("fields", [""])).split(",")) - {""}

    def _node(self, anime: dict, fields: set[str]) -> dict:
        return {k: v for k, v in anime.items() if k in DEFAULT_FIELDS or k in fields}

    def _animelist(self, name: str, query: dict):
        if name in self.private:
            return 403, {}, {"error": "forbidden"}
        if name not in self.lists:
            return 404, {}, {"error": "not_found"}
        items = list(self.lists[name])
        if query.get("sort") == ["list_updated_at"]:
            items.sort(key=lambda i: i["list_status"]["updated_at"], reverse=True)
        limit = min(int(query.get("limit", ["10"])[0]), 1000)
        offset = int(query.get("offset", ["0"])[0])
        fields = self._fields(query)
        data = [{"node": self._node(i["node"], fields),
                 **({"list_status": i["list_status"]} if "list_status" in fields else {})}
                for i in items[offset:offset + limit]]
        paging = {}
        if offset + limit < len(items):
            next_query = {k: v[0] for k, v in query.items()}
            next_query.update(offset=offset + limit, limit=limit)
            paging["next"] = f"{self.url}/users/{name}/animelist?{urlencode(next_query)}"
        return 200, {}, {"data": data, "paging": paging}

    def _anime(self, anime_id: int, query: dict):
        if anime_id not in self.anime:
            return 404, {}, {"error": "not_found"}
        return 200, {}, self._node(self.anime[anime_id], self._fields(query))


def _handler(fake: FakeMal):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            split = urlsplit(self.path)
            with fake.lock:
                fake.log.append((time.time(), self.path))
            status, headers, body = fake.respond(split.path, parse_qs(split.query), self.headers)
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8"
                                 if not isinstance(body, bytes) else "text/html")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (timeout tests)

        def log_message(self, format, *args):
            pass

    return Handler
