"""A mixed, paced HTTP load on the contract's routes, and how each answer is classified.

Known users are the demo's; never-seen users come at a slow steady rate (each costs MAL
calls); a few requests carry bad input. Every client sends its own ``X-Forwarded-For``
(the server trusts one proxy), so the per-IP rate limit is exercised without throttling
the whole load. Nothing here retries: each answer is recorded as it came.
"""
import random
import threading
import time
from dataclasses import dataclass

import requests

PLAIN_TEXT_ERRORS = {404: b"Resource not found", 405: b"Method not allowed",
                     503: b"Rate limited"}
NEWCOMERS_IN_FLIGHT = 20
KNOWN_USERS = [f"demo_user_{n:03d}" for n in range(1, 550)]


@dataclass
class Sample:
    kind: str
    sent: float
    latency: float
    status: int  # 0 when no HTTP answer came
    outcome: str  # "ok", a JSON error id, "plain:<status>", or what went wrong
    clean: bool  # an answer in the contract's shape (success, JSON error or plain text)


def classify(response: requests.Response) -> tuple[str, bool]:
    body = response.content
    content_type = response.headers.get("Content-Type", "")
    if b"Traceback" in body or b"<html" in body[:200].lower():
        return "html-or-traceback", False
    if content_type == "application/json":
        try:
            data = response.json()
        except ValueError:
            return "bad-json", False
        if response.status_code < 400:
            return "ok", isinstance(data, dict) and "data" in data
        shaped = (isinstance(data, dict) and set(data) == {"code", "id", "message"}
                  and data["code"] == response.status_code)
        return (data["id"] if shaped else "unshaped-json-error"), shaped
    if content_type.startswith("text/plain"):
        expected = PLAIN_TEXT_ERRORS.get(response.status_code)
        return f"plain:{response.status_code}", body == expected
    return f"content-type:{content_type or 'none'}", False


class Load:
    """``threads`` clients sharing ``rate`` requests a second, plus one client asking for
    a never-seen user every ``1 / new_user_rate`` seconds; stops at ``stop()`` or after
    ``max_requests``."""

    def __init__(self, base_url: str, *, threads: int, rate: float, new_user_rate: float,
                 new_users: list[str], max_requests: int, timeout: float, seed: int = 7):
        self.base_url = base_url
        self.threads = threads
        self.rate = rate
        self.new_user_rate = new_user_rate
        self.new_users = list(new_users)
        self.max_requests = max_requests
        self.timeout = timeout
        self.samples: list[Sample] = []
        self.fetched_ok: set[str] = set()  # never-seen users that got a 200
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._random = random.Random(seed)
        self._workers: list[threading.Thread] = []

    # --- requests ---------------------------------------------------------------------

    def _known_request(self, rng: random.Random) -> tuple[str, str]:
        a, b = rng.sample(KNOWN_USERS, 2)
        roll = rng.random()
        if roll < 0.25:
            return "similar", f"/{a}/similar?page={rng.randint(1, 5)}"
        if roll < 0.50:
            return "recommendations", (f"/{a}/recommendations?batch={rng.randint(1, 3)}"
                                       f"&page={rng.randint(1, 3)}")
        if roll < 0.60:
            return "random", f"/{a}/random?batch={rng.randint(1, 3)}"
        if roll < 0.75:
            return "compare", f"/{a}/compare/{b}"
        if roll < 0.95:
            return "from-user", f"/{a}/recommendations/{b}?page={rng.randint(1, 2)}"
        return "bad-input", rng.choice([f"/{a}/similar?page=x", "/a/similar",
                                        f"/{a}/random?batch=%00", "/no_such_route/x/y/z"])

    def _send(self, kind: str, path: str, client_ip: str) -> Sample:
        started = time.time()
        try:
            response = requests.get(self.base_url + path, timeout=self.timeout,
                                    headers={"X-Forwarded-For": client_ip})
        except requests.Timeout:
            return Sample(kind, started, time.time() - started, 0, "client-timeout", False)
        except requests.ConnectionError as error:
            reason = "connection-reset" if "reset" in str(error).lower() or \
                "aborted" in str(error).lower() else "connection-refused"
            return Sample(kind, started, time.time() - started, 0, reason, False)
        outcome, clean = classify(response)
        return Sample(kind, started, time.time() - started, response.status_code, outcome,
                      clean)

    def _record(self, sample: Sample) -> bool:
        with self._lock:
            self.samples.append(sample)
            return len(self.samples) < self.max_requests

    # --- clients ----------------------------------------------------------------------

    def _client(self, number: int) -> None:
        rng = random.Random(self._random.random() + number)
        interval = self.threads / self.rate
        next_at = time.monotonic()
        while not self._stop.is_set():
            kind, path = self._known_request(rng)
            ip = f"10.0.{rng.randint(0, 15)}.{rng.randint(1, 254)}"
            if not self._record(self._send(kind, path, ip)):
                self._stop.set()
            next_at = max(next_at + interval, time.monotonic() - interval)
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _newcomer(self) -> None:
        """Never-seen users arrive on their own schedule, whether or not the earlier ones
        were answered yet (at most ``NEWCOMERS_IN_FLIGHT`` waiting at once)."""
        rng = random.Random(99)
        interval = 1.0 / self.new_user_rate
        in_flight = threading.Semaphore(NEWCOMERS_IN_FLIGHT)
        while not self._stop.is_set() and self.new_users:
            if in_flight.acquire(timeout=interval):
                name = self.new_users.pop()
                asker = threading.Thread(target=self._ask_for_newcomer, daemon=True,
                                         args=(name, f"10.1.0.{rng.randint(1, 254)}",
                                               in_flight))
                self._workers.append(asker)
                asker.start()
            self._stop.wait(interval)

    def _ask_for_newcomer(self, name: str, client_ip: str, in_flight) -> None:
        try:
            sample = self._send("new-user", f"/{name}/similar", client_ip)
            if sample.status == 200:
                with self._lock:
                    self.fetched_ok.add(name)
            elif sample.status >= 500 or sample.status == 0:
                self.new_users.insert(0, name)  # asks again later, as a person would
            if not self._record(sample):
                self._stop.set()
        finally:
            in_flight.release()

    def start(self) -> "Load":
        self._workers = [threading.Thread(target=self._client, args=(n,), daemon=True)
                         for n in range(self.threads)]
        if self.new_user_rate > 0:
            self._workers.append(threading.Thread(target=self._newcomer, daemon=True))
        for worker in list(self._workers):  # the newcomer thread adds to the list
            worker.start()
        return self

    def stop(self) -> None:
        """Stop sending; wait for the answers still in flight (at most the client timeout)."""
        self._stop.set()
        deadline = time.monotonic() + self.timeout + 5
        for worker in list(self._workers):
            worker.join(timeout=max(0.0, deadline - time.monotonic()))

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def between(self, start: float, end: float) -> list[Sample]:
        with self._lock:
            return [s for s in self.samples if start <= s.sent < end]


def busiest_window(times: list[float], width: float) -> int:
    """The most of ``times`` that fall within any window of ``width`` seconds."""
    times = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= width:
            first += 1
        best = max(best, last - first + 1)
    return best


def burst_from_one_client(base_url: str, count: int, timeout: float,
                          parallel: int = 8) -> dict[str, int]:
    """``count`` requests as fast as ``parallel`` connections go, all from one client
    address: what the per-IP rate limit does (past the limit: plain-text 503s)."""
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def client(share: int) -> None:
        for _ in range(share):
            try:
                response = requests.get(f"{base_url}/demo_user_001/similar", timeout=timeout,
                                        headers={"X-Forwarded-For": "10.9.9.9"})
                outcome, _ = classify(response)
                key = f"{response.status_code} {outcome}"
            except requests.RequestException as error:
                key = type(error).__name__
            with lock:
                outcomes[key] = outcomes.get(key, 0) + 1

    threads = [threading.Thread(target=client, args=(count // parallel,))
               for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
