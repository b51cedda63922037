"""``vpo process --queue`` / ``vpo scan --queue``: hand work to the daemon's queue.

The job is written to the library directly (the user's own command line is
trusted with any path and policy file); a running ``vpo serve`` is then told to
look at its queue. Without a daemon the job waits for the next ``vpo serve``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vpo.config.models import VPOConfig
from vpo.jobs.model import Job, JobType, NewJob
from vpo.library import Library
from vpo.library.maintenance import running_daemon
from vpo.server.client import ClientError, call


@dataclass(frozen=True, slots=True)
class Queued:
    job: Job
    daemon: str | None  # the address of the daemon that was told, if one runs
    warning: str | None = None


def enqueue(
    config: VPOConfig,
    job_type: JobType,
    paths: Sequence[Path],
    *,
    policy_path: Path | None = None,
    dry_run: bool = False,
    priority: int = 0,
) -> Queued:
    text = policy_path.read_text(encoding="utf-8") if policy_path is not None else None
    new = NewJob(
        type=job_type,
        paths=[os.path.abspath(path) for path in paths],  # noqa: PTH100 - keep symlinked names
        dry_run=dry_run,
        priority=priority,
        policy_name=policy_path.stem if policy_path is not None else None,
        policy_text=text,
        policy_hash=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16] if text else None,
    )
    with Library.open(config.library.database) as library:
        job = library.jobs.add(new)
    address = running_daemon(config.library.database)
    if address is None:
        return Queued(job, None)
    try:
        call(address, "POST", "/queue/wake", config.server.token)
    except ClientError as error:
        return Queued(job, address, f"{error}; the job waits until the daemon looks again")
    return Queued(job, address)


def queued_line(queued: Queued) -> str:
    job = queued.job
    where = (
        f"vpo serve at {queued.daemon} will run it"
        if queued.daemon
        else "no vpo serve is running: it starts with the next one"
    )
    return f"Queued job {job.id} ({job.type.value}, {len(job.paths)} path(s)); {where}"
