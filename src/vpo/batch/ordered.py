"""Run one function over many items on an executor, yielding results in item order.

For commands whose output must follow the order the user gave (``vpo inspect``)
but whose work (a probe process per file) can overlap. At most ``workers`` items
are in flight, so memory does not grow with the number of items.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_ordered(
    function: Callable[[T], R], items: Iterable[T], *, executor: Executor, workers: int
) -> Iterator[R]:
    """``function(item)`` for each item, run ``workers`` at a time, in item order.

    ``function`` should not raise: an exception is re-raised here, in order.
    """
    pending: deque[Future[R]] = deque()
    source = iter(items)
    for item in source:
        pending.append(executor.submit(function, item))
        if len(pending) >= max(1, workers):
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
