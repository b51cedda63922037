"""Plain-text before → after tables for dry-run (pure: plans in, text out).

Plain columns rather than a terminal widget, so the output is the same in a
pipe, a log and a golden test. Columns are padded by display width (a CJK
character takes two cells), and every cell is escaped with the one escaping
function (vpo.text.one_line, also used by ``vpo inspect``): a title's terminal
escape sequence is shown, never sent to the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from vpo.media.model import Track, TrackFlags
from vpo.plan import Plan, PlanKind, TrackDiff
from vpo.policy.phases import FileEvaluation, PhaseOutcome
from vpo.text import one_line
from vpo.workflow.changes import describe_time

_FLAG_LETTERS = (
    ("default", "D"),
    ("forced", "F"),
    ("hearing_impaired", "HI"),
    ("visual_impaired", "VI"),
    ("commentary", "C"),
    ("original", "O"),
)
_HEADER = ("#", "type", "codec", "language", "title", "flags", "→ #", "result")
_MAX_TITLE = 32
# Non-ASCII characters the table writes itself, one cell each (a test checks them
# against rich): with printable ASCII they are measured without importing rich.
ONE_CELL = frozenset("→…")


def cell_len(text: str) -> int:
    """Terminal cells of (escaped, printable) text, as rich.cells measures them.

    rich is imported only for text with other characters (a CJK title): importing
    it cost about 4 % of a dry run's start-up for tables that are nearly all ASCII.
    """
    if (text.isascii() and text.isprintable()) or all(
        char in ONE_CELL or (char.isascii() and char.isprintable()) for char in text
    ):
        return len(text)
    from rich.cells import cell_len as rich_cell_len

    return rich_cell_len(text)


def flags_text(flags: TrackFlags) -> str:
    """``D F`` style: D default, F forced, HI/VI impaired, C commentary, O original."""
    letters = [letter for name, letter in _FLAG_LETTERS if getattr(flags, name)]
    return " ".join(letters) or "-"


display_path = one_line  # the one implementation: vpo.text


def _short(text: str | None) -> str:
    """The escaped title, cut to ``_MAX_TITLE`` terminal cells."""
    value = one_line(text or "")
    if cell_len(value) <= _MAX_TITLE:
        return value
    kept, used = [], 0
    for char in value:
        used += cell_len(char)
        if used > _MAX_TITLE - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def _change(before: str, after: str) -> str:
    return before if before == after else f"{before} → {after}"


def _row(diff: TrackDiff) -> tuple[str, ...]:
    before: Track | None = diff.before
    after = diff.after
    index = "new" if diff.source_index is None else str(diff.source_index)
    if after is None:
        assert before is not None
        return (
            index,
            before.type.value,
            before.codec,
            before.language,
            _short(before.title),
            flags_text(before.flags),
            "-",
            f"removed: {diff.removal_reason}",
        )
    if before is None:
        return (
            index,
            after.type.value,
            after.codec,
            after.language,
            _short(after.title),
            flags_text(after.flags),
            str(diff.new_position),
            "new track",
        )
    result = "changed" if diff.changes else "keep"
    if diff.moved:
        result += " (moved)"
    return (
        index,
        before.type.value,
        _change(before.codec, after.codec),
        _change(before.language, after.language),
        _change(_short(before.title), _short(after.title)),
        _change(flags_text(before.flags), flags_text(after.flags)),
        str(diff.new_position),
        result,
    )


def _columns(rows: Sequence[tuple[str, ...]], indent: str = "  ") -> list[str]:
    """Aligned by display width: what a terminal shows, not ``len()``."""
    escaped = [tuple(one_line(cell) for cell in row) for row in rows]
    widths = [max(cell_len(row[i]) for row in escaped) for i in range(len(escaped[0]))]
    return [
        indent
        + "  ".join(
            cell + " " * (width - cell_len(cell)) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in escaped
    ]


def render_plan(plan: Plan) -> list[str]:
    """Lines for one phase's plan: heading, table, warnings and notes."""
    source = plan.source
    container = (
        source.container.value
        if plan.container is source.container
        else f"{source.container.value} → {plan.container.value}"
    )
    lines = [f"  phase {plan.phase}: {_kind_text(plan.kind)} (container {container})"]
    if plan.kind is not PlanKind.NOOP:
        rows = [_HEADER, *(_row(diff) for diff in plan.diff())]
        lines.extend(_columns(rows, indent="    "))
        if plan.removed_attachments:
            ids = ", ".join(str(i) for i in plan.removed_attachments)
            lines.append(f"    attachments removed: {ids}")
        time = describe_time(plan)
        if time is not None:
            lines.append(f"    {time}")
    lines.extend(f"    warning: {one_line(warning)}" for warning in plan.warnings)
    lines.extend(f"    note: {one_line(note)}" for note in plan.notes)
    return lines


def _kind_text(kind: PlanKind) -> str:
    return {
        PlanKind.NOOP: "no change",
        PlanKind.METADATA: "metadata only",
        PlanKind.REMUX: "remux",
        PlanKind.ENCODE: "encode",
    }[kind]


def render_file(evaluation: FileEvaluation) -> str:
    """The dry-run block for one file."""
    lines = [display_path(evaluation.media.path)]
    for result in evaluation.phases:
        if result.outcome is PhaseOutcome.COMPLETED:
            assert result.plan is not None
            lines.extend(render_plan(result.plan))
        else:
            lines.append(f"  phase {result.phase}: {result.outcome.value}: {result.reason}")
    return "\n".join(lines) + "\n"


def render_summary(counts: dict[str, int], total: int) -> str:
    """``412 files: 390 metadata-only, 18 remux, 4 no change, 0 errors``."""
    parts = [
        f"{counts.get('metadata', 0)} metadata-only",
        f"{counts.get('remux', 0)} remux",
    ]
    if counts.get("encode"):
        parts.append(f"{counts['encode']} encode")
    parts.append(f"{counts.get('noop', 0)} no change")
    errors = counts.get("errors", 0)
    parts.append(f"{errors} error" + ("" if errors == 1 else "s"))
    noun = "file" if total == 1 else "files"
    return f"{total} {noun}: " + ", ".join(parts)
