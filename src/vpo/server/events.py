"""Job events fanned out to server-sent-event clients.

``publish`` is called from the runner's threads; each subscriber is an asyncio
queue on the server's loop, filled with ``call_soon_threadsafe``, so an event
reaches a waiting client at once (no polling). A slow client loses its oldest
events rather than growing memory without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from vpo.jobs.model import JobEvent

_QUEUE_SIZE = 1000


class Subscription:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[JobEvent | None] = asyncio.Queue(_QUEUE_SIZE)

    def _put(self, event: JobEvent | None) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # drop the oldest
        self.queue.put_nowait(event)


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()
        self._closed = False

    def publish(self, event: JobEvent) -> None:
        with self._lock:
            targets = list(self._subscriptions)
        for subscription in targets:
            with contextlib.suppress(RuntimeError):  # a closed loop: the server is gone
                subscription.loop.call_soon_threadsafe(subscription._put, event)

    def subscribe(self) -> Subscription:
        subscription = Subscription(asyncio.get_running_loop())
        with self._lock:
            if self._closed:
                subscription._put(None)
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def close(self) -> None:
        """Shutdown: every stream ends."""
        with self._lock:
            self._closed = True
            targets = list(self._subscriptions)
        for subscription in targets:
            with contextlib.suppress(RuntimeError):
                subscription.loop.call_soon_threadsafe(subscription._put, None)
