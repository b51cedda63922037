"""How many files to process at once.

Encodes use several cores each, so by default vpo runs at most half as many
workers as there are cores. Metadata edits and remuxes wait on disks, so a user
can lift that cap with ``[processing] max_workers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MaxWorkers = int | Literal["auto"]


@dataclass(frozen=True, slots=True)
class WorkerDecision:
    """The effective worker count and, when it differs from the request, why."""

    requested: int
    effective: int
    cap: int
    warning: str | None = None


def default_worker_cap(cpu_count: int | None) -> int:
    """Half the cores, at least one; two cores assumed when the count is unknown."""
    cores = cpu_count if cpu_count and cpu_count > 0 else 2
    return max(1, cores // 2)


def resolve_worker_count(
    requested: int,
    *,
    max_workers: MaxWorkers,
    cpu_count: int | None,
    file_count: int | None = None,
) -> WorkerDecision:
    """Cap ``requested`` by ``max_workers`` (or half the cores) and by the number of files."""
    if requested < 1:
        raise ValueError(f"workers must be at least 1, got {requested}")
    if max_workers == "auto":
        cap = default_worker_cap(cpu_count)
        cap_source = f"half of {cpu_count or 'an unknown number of'} CPU cores"
        hint = "; set [processing] max_workers (or VPO_PROCESSING_MAX_WORKERS) to lift the cap"
    else:
        cap = max(1, max_workers)
        cap_source = "processing.max_workers"
        hint = ""
    effective = min(requested, cap)
    warning = None
    if effective < requested:
        noun = "worker" if effective == 1 else "workers"
        warning = f"using {effective} {noun} instead of {requested} (capped at {cap_source}){hint}"
    if file_count is not None and file_count > 0:
        effective = min(effective, file_count)
    return WorkerDecision(
        requested=requested, effective=max(1, effective), cap=cap, warning=warning
    )
