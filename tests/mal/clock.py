"""A simulated clock for the MAL client's request budget, so spacing is checked exactly
instead of by timing real requests on a busy machine."""
import threading


class SimulatedClock:
    """Stands in for the ``time`` module in ``users.mal_client``.

    Each thread's clock starts at ``start`` and moves only when that thread sleeps, so a
    request starts exactly when the budget let it; ``sleeps`` lists every sleep asked for.
    """

    def __init__(self, start: float):
        self.start = start
        self.sleeps: list[float] = []
        self._local = threading.local()

    def time(self) -> float:
        return getattr(self._local, "now", self.start)

    monotonic = time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._local.now = self.time() + max(0.0, seconds)


def record_request_starts(monkeypatch, clock: SimulatedClock) -> list[float]:
    """The simulated time at which each MAL request is sent (once the budget let it)."""
    from users import mal_client

    starts: list[float] = []
    take = mal_client.budget_take

    def taking():
        take()
        starts.append(clock.time())

    monkeypatch.setattr(mal_client, "budget_take", taking)
    return starts


def most_in_window(times: list[float], seconds: float) -> int:
    """The most of ``times`` within any half-open window ``[t, t + seconds)``."""
    times = sorted(times)
    return max((sum(1 for u in times if t <= u < t + seconds - 1e-9) for t in times), default=0)
