"""ApplySettings: the one frozen object that tells apply how careful and patient to be."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vpo.tools.tool_timeouts import ToolTimeouts


class JobsSection(Protocol):
    """The fields of ``vpo.config.models.JobsConfig`` that apply reads."""

    @property
    def keep_backup(self) -> bool: ...
    @property
    def temp_dir(self) -> Path | None: ...
    @property
    def preserve_mtime(self) -> bool: ...
    @property
    def stable_seconds(self) -> float: ...
    @property
    def replace(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ApplySettings:
    """How to apply: backups, where temps go, mtime, growing-file guard, timeouts.

    ``journal_limit`` is the most header bytes an in-place edit may journal; a file
    whose headers are larger is edited on a copy instead. ``copy_back``: a rewrite's
    verified output is copied into the original file (same inode) under a durable
    backup instead of renamed over it (vpo.apply.copyback).
    """

    keep_backup: bool = False
    temp_dir: Path | None = None
    preserve_mtime: bool = True
    stable_seconds: float = 10.0
    timeouts: ToolTimeouts = field(default_factory=ToolTimeouts)
    journal_limit: int = 64 * 1024 * 1024
    copy_back: bool = False  # [jobs] replace = "copy": write through the original inode

    @classmethod
    def from_jobs_config(
        cls, jobs: JobsSection, *, timeouts: ToolTimeouts | None = None
    ) -> ApplySettings:
        return cls(
            keep_backup=jobs.keep_backup,
            temp_dir=jobs.temp_dir,
            preserve_mtime=jobs.preserve_mtime,
            stable_seconds=jobs.stable_seconds,
            timeouts=timeouts or ToolTimeouts(),
            copy_back=jobs.replace == "copy",
        )
