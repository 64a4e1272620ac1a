"""Where a request's time goes, in process (Django's test client, no HTTP server).

For each route: the whole request (middleware, DRF, services, engine, JSON), the part
spent waiting on database queries (timed by an ``execute_wrapper``) and their number.
The engine's own share is in the engine table; what remains is Django and DRF.
"""
import time

import numpy as np

from bench.http_bench import ROUTES, paths_for


class _QueryTimer:
    def __init__(self):
        self.count = 0
        self.ns = 0

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ns += time.perf_counter_ns() - t0
            self.count += 1


def measure(names: list[str], *, seed: int, requests: int = 200) -> dict:
    """p50 of the whole request and of its database time per route (ms), queries each.

    Each route first serves ``requests`` warm-up requests on the same paths, so the
    timed ones find what a returning user finds (neighbour lists and the requester's list
    at hand).
    """
    from django.db import connection
    from django.test import Client

    client = Client()
    rng = np.random.default_rng(seed)
    out = {}
    for route in ROUTES:
        paths = paths_for(route, names, rng, requests)
        for path in paths:
            client.get(path)
        total, db, queries = [], [], []
        for path in paths:
            timer = _QueryTimer()
            with connection.execute_wrapper(timer):
                t0 = time.perf_counter_ns()
                response = client.get(path)
                total.append(time.perf_counter_ns() - t0)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            db.append(timer.ns)
            queries.append(timer.count)
        out[route] = {"total_ms": float(np.median(total)) / 1e6,
                      "db_ms": float(np.median(db)) / 1e6,
                      "queries": float(np.median(queries)), "requests": len(paths)}
    return out
