"""Settled files become process jobs on the library's queue.

The policy is read when the job is made (its text is the job's snapshot, as
for ``--queue``): a policy edited while vpo watches applies to later files.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from vpo.config.models import VPOConfig
from vpo.errors import ConfigError, VpoError
from vpo.jobs.model import JobOptions, JobType, NewJob
from vpo.library import Library
from vpo.policy.loader import parse_policy
from vpo.watch.rules import NameFilter, WatchFolder, parse_folder
from vpo.watch.watcher import WatchSettings

log = logging.getLogger("vpo.watch")


def policy_file(reference: str, policy_dir: Path) -> Path:
    """A policy name in ``policy_dir`` (``anime`` → ``anime.yaml``) or a path to a file."""
    if "/" in reference or reference.endswith((".yaml", ".yml")):
        return Path(reference).expanduser()
    return policy_dir / f"{reference}.yaml"


def read_policy(reference: str, policy_dir: Path) -> tuple[Path, str]:
    """The policy's file and text, validated; ConfigError (one line) otherwise."""
    path = policy_file(reference, policy_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the policy: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the policy is not UTF-8 text") from None
    parse_policy(text, str(path))
    return path, text


def process_job(files: Sequence[str], reference: str, policy_dir: Path) -> NewJob:
    """A process job for exactly ``files`` with a snapshot of the policy (name, text, hash)."""
    path, text = read_policy(reference, policy_dir)
    return NewJob(
        type=JobType.PROCESS,
        paths=list(files),
        options=JobOptions(files=list(files)),
        policy_name=path.stem,
        policy_text=text,
        policy_hash=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
    )


def watch_settings(
    config: VPOConfig, folders: Sequence[str], default_policy: str | None
) -> WatchSettings:
    """Settings from ``[watch]`` (or the command line); ConfigError for a bad entry."""
    parsed = []
    for entry in folders:
        try:
            parsed.append(parse_folder(entry, default_policy))
        except ValueError as error:
            raise ConfigError(f"[watch] folders: {error}") from None
    resolved = tuple(WatchFolder(folder.path.resolve(), folder.policy) for folder in parsed)
    return WatchSettings(
        folders=resolved,
        names=NameFilter(
            frozenset(config.discovery.extensions),
            tuple(config.watch.include),
            tuple(config.watch.exclude),
        ),
        stable_seconds=config.jobs.stable_seconds,
        rescan_seconds=config.watch.rescan_seconds,
        polling=config.watch.polling,
    )


class QueueSink:
    """One process job per call (the files that settled together, one policy)."""

    def __init__(self, library: Library, policy_dir: Path, wake: Callable[[], None]) -> None:
        self._library = library
        self._policy_dir = policy_dir
        self._wake = wake

    def check(self, folders: Sequence[WatchFolder]) -> None:
        """Preflight: every folder's policy is readable and valid (ConfigError otherwise)."""
        for folder in folders:
            read_policy(folder.policy, self._policy_dir)

    def submit(self, folder: WatchFolder, paths: Sequence[Path]) -> None:
        try:
            new = process_job([str(p) for p in paths], folder.policy, self._policy_dir)
        except VpoError as error:
            log.error("watch: %d file(s) in %s not queued: %s", len(paths), folder.path, error)
            return
        job = self._library.jobs.add(new)
        log.info("watch: job %d queued for %s", job.id, ", ".join(p.name for p in paths[:5]))
        self._wake()
