"""Who owns a processing run, and whether that vpo process is still alive.

A run is written ``running`` when it starts and closed when it ends; a vpo that
was killed (kill -9, power loss, a full disk) never closes it. Each run records
its owner as ``HOST BOOT-ID PID START-TICKS`` (the process's start time in clock
ticks since boot, from /proc, so a recycled pid is not mistaken for the owner;
the boot id tells a run from before a reboot). The next vpo closes runs whose
owner is gone (see Library.close_abandoned_runs).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

ProcessStart = Callable[[int], str | None]  # pid → start ticks, None: no such process


def process_start(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks since boot ("" where /proc does not exist)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return _exists_without_proc(pid)
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] == "Z":  # a zombie has ended
        return None
    return fields[19]  # field 22 of proc(5), counted after the name


def _exists_without_proc(pid: int) -> str | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    return ""


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return "-"


def current_owner() -> str:
    """This process as a run owner."""
    pid = os.getpid()
    start = process_start(pid) or "-"
    return f"{socket.gethostname()} {_boot_id()} {pid} {start or '-'}"


def owner_is_gone(owner: str | None, me: str, start_of: ProcessStart = process_start) -> bool:
    """True when the vpo that owns a run is certainly no longer running.

    ``me`` is current_owner(). An owner on another host is never declared gone
    (vpo cannot look at that host's processes); an unknown owner (a run written
    before schema 3) is gone, since no vpo older than this one can still be running
    alongside it without having been upgraded.
    """
    if owner is None:
        return True
    parts = owner.split(" ")
    mine = me.split(" ")
    if len(parts) != 4 or len(mine) != 4:
        return True
    host, boot, pid, start = parts
    if host != mine[0]:
        return False
    if boot != mine[1] and boot != "-" and mine[1] != "-":
        return True  # rebooted since
    if not pid.isdigit():
        return True
    now = start_of(int(pid))
    if now is None:
        return True
    return start not in ("-", "") and now not in ("-", "") and now != start
