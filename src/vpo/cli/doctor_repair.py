"""``vpo doctor --repair PATH``: undo what a killed vpo left behind.

An interrupted in-place edit leaves a journal beside the file, an interrupted
rewrite a ``.vpo-tmp-`` file; vpo process repairs both on its next run, and
this check does it on demand (vpo.apply.recovery does the work).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vpo.apply.recovery import (
    RecoveryAction,
    RecoveryKind,
    recover_leftovers,
    recover_temp_dir,
)
from vpo.cli.render.tracks import display_path
from vpo.errors import ExitCode


def repair_lines(actions: Sequence[RecoveryAction]) -> list[str]:
    """Pure: one line per recovery action."""
    return [
        f"{action.kind.value}: {display_path(action.path)}: {action.detail}" for action in actions
    ]


def repair(
    paths: Sequence[Path], temp_dirs: Sequence[Path | None] = (), *, other_hosts: bool = False
) -> tuple[list[RecoveryAction], list[str]]:
    """Recover under each path and in the temp directories (``[jobs] temp_dir``,
    ``[transcode] scratch_dir``); a missing path is reported, not fatal.
    ``other_hosts``: other machines' leftovers are abandoned (the user says so)."""
    actions: list[RecoveryAction] = recover_temp_dir(*temp_dirs, other_hosts=other_hosts)
    problems: list[str] = []
    for path in paths:
        if not path.exists():
            problems.append(f"{display_path(path)}: no such file or directory")
            continue
        actions.extend(recover_leftovers(path, other_hosts=other_hosts))
    return actions, problems


def repair_exit_code(actions: Sequence[RecoveryAction], problems: Sequence[str]) -> ExitCode:
    """Pure: 1 when anything could not be repaired (left alone, see its line)."""
    attention = (RecoveryKind.FAILED, RecoveryKind.BUSY, RecoveryKind.SET_ASIDE)
    failed = any(a.kind in attention for a in actions)
    return ExitCode.FILES_FAILED if failed or problems else ExitCode.OK
