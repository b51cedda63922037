"""Which machine a temp file or journal belongs to.

A pid only means something on the machine that issued it: on shared storage two
machines (or two containers, each with its own pid namespace) can write temps
with the same pid. vpo therefore names the writer ``<pid>@<host id>``, the host
id being 8 hex digits of a hash of the host name and ``/etc/machine-id``.
"""

from __future__ import annotations

import functools
import hashlib
import socket
from pathlib import Path

MACHINE_ID = Path("/etc/machine-id")


def host_id_of(hostname: str, machine_id: str) -> str:
    """Pure: the 8-hex-digit id of a machine known by ``hostname`` and ``machine_id``."""
    return hashlib.sha256(f"{hostname}\0{machine_id.strip()}".encode()).hexdigest()[:8]


@functools.cache
def this_host() -> str:
    """This machine's host id (read once per process)."""
    try:
        machine_id = MACHINE_ID.read_text(encoding="ascii", errors="replace")
    except OSError:
        machine_id = ""
    return host_id_of(socket.gethostname(), machine_id)
