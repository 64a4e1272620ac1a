"""Run by test_two_processes_share_the_budget: COUNT anime requests from its own process,
on a simulated clock frozen at START (moving only by the budget's sleeps); prints the
simulated start time of each request as JSON.

Usage: budget_worker.py START COUNT
"""
import json
import sys

import django

django.setup()

from users import mal_client  # noqa: E402

from tests.mal.clock import SimulatedClock  # noqa: E402

start, count = float(sys.argv[1]), int(sys.argv[2])
clock = SimulatedClock(start)
mal_client.time = clock
starts = []
take = mal_client.budget_take


def taking():
    take()
    starts.append(clock.time())


mal_client.budget_take = taking
for _ in range(count):
    mal_client.anime_details(1)
print(json.dumps(starts))
