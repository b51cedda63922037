"""map_ordered: overlapping work, results in the order of the items."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from vpo.batch.ordered import map_ordered


def test_items_overlap_and_results_keep_the_item_order() -> None:
    both_running = threading.Barrier(2, timeout=5)  # breaks if the two never overlap

    def work(item: int) -> int:
        if item < 2:
            both_running.wait()
        return item * 10

    with ThreadPoolExecutor(2) as executor:
        assert list(map_ordered(work, range(5), executor=executor, workers=2)) == [
            0,
            10,
            20,
            30,
            40,
        ]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_never_more_than_workers_items_in_flight(workers: int) -> None:
    lock = threading.Lock()
    active = peak = 0

    def work(item: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        with lock:
            active -= 1
        return item

    with ThreadPoolExecutor(8) as executor:
        assert list(map_ordered(work, range(20), executor=executor, workers=workers)) == list(
            range(20)
        )
    assert peak <= workers
