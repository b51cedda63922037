"""mkvpropedit argv for a metadata-only plan: edit only the fields that change."""

from __future__ import annotations

from pathlib import Path

from vpo.media.model import Track
from vpo.plan import Plan
from vpo.tools.commands.common import FLAG_NAMES, absolute
from vpo.tools.commands.mkvtags import global_tag_set

_PROPERTY = {flag: prop for flag, prop, _, _ in FLAG_NAMES}


def track_selector(track: Track) -> str:
    """Select by UID when known (unambiguous whatever the numbering), else by position.

    ``track:N`` is the Nth track in file order, which is mkvmerge's id + 1.
    """
    if track.uid is not None:
        return f"track:={track.uid}"
    return f"track:{track.track_id + 1}"


def build_mkvpropedit_argv(
    executable: str, plan: Plan, target: Path, *, tags_file: Path | None = None
) -> list[str]:
    """Edit ``target`` in place so its headers match ``plan``.

    ``target`` is the original for an in-place edit or a copy of it for the
    temp-file path; the plan must not reorder or drop anything. ``tags_file``:
    the global tags XML (vpo.tools.tag_files) when the plan changes a tag and
    keeps any; it replaces all global tags.
    """
    if plan.needs_rewrite:
        raise ValueError("mkvpropedit cannot reorder, drop or convert; use a remux")
    argv = [executable, "--quiet", absolute(target)]
    title = plan.title_change()
    if title is not None:
        argv += ["--edit", "info"]
        argv += ["--set", f"title={title[1]}"] if title[1] else ["--delete", "title"]
    tags = global_tag_set(plan)
    if tags is not None:
        if not tags:
            argv += ["--tags", "global:"]  # no file: all global tags removed
        elif tags_file is None:
            raise ValueError("the plan changes container tags: pass the tags file")
        else:
            argv += ["--tags", f"global:{absolute(tags_file)}"]
    for change in plan.metadata_changes():
        source = plan.source.tracks[change.source_index]
        argv += ["--edit", track_selector(source)]
        for name, _before, after in change.fields:
            if name == "language":
                argv += ["--set", f"language={after}"]
            elif name == "title":
                argv += ["--set", f"name={after}"] if after else ["--delete", "name"]
            else:
                argv += ["--set", f"{_PROPERTY[name]}={int(bool(after))}"]
    return argv
