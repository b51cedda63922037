"""Messages between the coordinator and its Dask client process, over a socket.

A message is plain data (None, bool, int, float, str, bytes, tuples, lists and
dicts of those) sent with :mod:`marshal`, which cannot carry a class: neither
side ever builds an object of the other's choosing from a message. Work and
results travel inside as ``bytes`` only the coordinator and the workers unpickle.
"""

from __future__ import annotations

import contextlib
import marshal
import socket
import struct
import threading
from typing import Any

_LENGTH = struct.Struct("!I")


class ChannelClosedError(EOFError):
    """The other side closed the socket (or died)."""


class Channel:
    """Length-prefixed marshal messages; ``send`` is safe from any thread, ``receive``
    is called by one reading thread."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._reader = sock.makefile("rb")
        self._lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        data = marshal.dumps(message)
        with self._lock:
            self._sock.sendall(_LENGTH.pack(len(data)) + data)

    def receive(self) -> tuple[Any, ...]:
        head = self._reader.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            raise ChannelClosedError
        (size,) = _LENGTH.unpack(head)
        data = self._reader.read(size)
        if len(data) < size:
            raise ChannelClosedError
        message = marshal.loads(data)  # plain data only, from our own process
        if not isinstance(message, tuple):
            raise ChannelClosedError
        return message

    def close(self) -> None:
        """Shut the socket down for both directions (the reader sees end of file)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._reader.close()
        self._sock.close()
