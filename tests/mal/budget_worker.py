"""Run by test_two_processes_stay_within_the_budget: N anime requests from its own process.

Usage: budget_worker.py START_EPOCH COUNT (waits until START_EPOCH so both start together).
"""
import sys
import time

import django

django.setup()

from users import mal_client  # noqa: E402

start_at, count = float(sys.argv[1]), int(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))
for _ in range(count):
    mal_client.anime_details(1)
