"""Pure helpers for the pages: pagination, sizes, inline SVG charts, plan rows.

Nothing here does I/O; the page handlers (``pages.py``) feed it what the
service functions returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape

from vpo.cli.render.tracks import human_size

PAGE_SIZES = (25, 50, 100, 200)


@dataclass(frozen=True, slots=True)
class Pager:
    """Server-side pagination: which page this is and links to its neighbours."""

    total: int
    limit: int
    offset: int
    base: str  # the page's path
    query: tuple[tuple[str, str], ...]  # the other query parameters, kept on every link

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else self.offset + 1

    @property
    def last(self) -> int:
        return min(self.total, self.offset + self.limit)

    def link(self, offset: int) -> str:
        params = [*self.query, ("offset", str(offset)), ("limit", str(self.limit))]
        return f"{self.base}?{urlencode(params)}"

    @property
    def previous(self) -> str | None:
        return None if self.offset <= 0 else self.link(max(0, self.offset - self.limit))

    @property
    def next(self) -> str | None:
        end = self.offset + self.limit
        return None if end >= self.total else self.link(end)


@dataclass(frozen=True, slots=True)
class SortLink:
    href: str
    state: str  # aria-sort: none / ascending / descending


def sort_links(base: str, query: tuple[tuple[str, str], ...], current: str) -> dict[str, SortLink]:
    """Per sortable column: the link that sorts by it (toggling direction) and its state."""
    links = {}
    for column in ("path",):
        if current == column:
            target, state = f"-{column}", "ascending"
        elif current == f"-{column}":
            target, state = column, "descending"
        else:
            target, state = column, "none"
        links[column] = SortLink(f"{base}?{urlencode([*query, ('sort', target)])}", state)
    return links


def clamp_page(limit: int, offset: int, *, default: int = 50) -> tuple[int, int]:
    """Bounds a page request from the URL (a page never asks for more than 200 rows)."""
    if limit not in PAGE_SIZES:
        limit = default
    return limit, max(0, offset)


def size(value: int | None) -> str:
    return "?" if value is None else human_size(value)


def signed_size(value: int | None) -> str:
    if value is None:
        return "?"
    return f"-{human_size(-value)}" if value < 0 else human_size(value)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int


def bar_chart(bars: Sequence[Bar], *, title: str, unit: str = "bytes") -> Markup:
    """A horizontal bar chart as inline SVG (labels escaped; no script, no style attribute)."""
    if not bars:
        return Markup("")
    width, row, label_width = 640, 26, 200
    peak = max(max(bar.value for bar in bars), 1)
    height = row * len(bars) + 8
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for number, bar in enumerate(bars):
        y = number * row + 4
        length = max(1, round((width - label_width - 110) * max(bar.value, 0) / peak))
        shown = human_size(bar.value) if unit == "bytes" else str(bar.value)
        parts.append(
            f'<text x="0" y="{y + 16}" class="chart-label">{escape(_shorten(bar.label, 28))}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length}" height="{row - 8}" '
            f'class="chart-bar"><title>{escape(bar.label)}: {escape(shown)}</title></rect>'
            f'<text x="{label_width + length + 6}" y="{y + 16}" class="chart-value">'
            f"{escape(shown)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(points: Sequence[tuple[float, int]], *, title: str) -> Markup:
    """Cumulative bytes over time as an inline SVG polyline (x: time, y: bytes)."""
    if len(points) < 2:
        return Markup("")
    width, height, pad = 640, 160, 8
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    top = max(max(ys), 1)
    span = (x1 - x0) or 1.0
    coords = " ".join(
        f"{pad + (x - x0) / span * (width - 2 * pad):.1f},"
        f"{height - pad - y / top * (height - 2 * pad):.1f}"
        for x, y in points
    )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<polyline class="chart-line" fill="none" points="{coords}"/>'
        f'<text x="{pad}" y="{pad + 12}" class="chart-value">{escape(human_size(top))}</text>'
        "</svg>"
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def top(counts: Mapping[str, int], limit: int = 8) -> list[tuple[str, int]]:
    """The largest ``limit`` entries, largest first."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


# ------------------------------------------------------------------ plans


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One line of a plan's track table: a kept track (maybe moved/changed) or a removal."""

    position: str
    source: str
    type: str
    codec: str
    language: str
    title: str
    flags: str
    action: str  # kept / moved / changed / encode / removed
    detail: str


_FLAG_LETTERS = (
    ("default", "D"),
    ("forced", "F"),
    ("hearing_impaired", "HI"),
    ("visual_impaired", "VI"),
    ("commentary", "C"),
    ("original", "O"),
)


def _flags(flags: Mapping[str, Any]) -> str:
    return " ".join(letter for name, letter in _FLAG_LETTERS if flags.get(name)) or "-"


def plan_rows(plan: Mapping[str, Any]) -> list[PlanRow]:
    """A phase plan (the documented JSON of ``vpo process --dry-run --json``) as rows."""
    changes = {
        change.get("position"): change.get("fields", {}) for change in plan.get("changes", [])
    }
    rows: list[PlanRow] = []
    for track in plan.get("tracks", []):
        position = track.get("position")
        source = track.get("source_index")
        fields = changes.get(position, {})
        details = [
            f"{name}: {_show(value.get('before'))} → {_show(value.get('after'))}"
            for name, value in fields.items()
        ]
        encode = track.get("encode")
        if encode:
            action = "encode"
            details.insert(0, f"encode to {encode.get('codec')}")
        elif fields:
            action = "changed"
        elif source != position:
            action = "moved"
        else:
            action = "kept"
        if source != position:
            details.insert(0, f"moved from #{source}")
        rows.append(
            PlanRow(
                position=str(position),
                source=str(source),
                type=str(track.get("type", "")),
                codec=str(track.get("codec", "")),
                language=str(track.get("language") or ""),
                title=str(track.get("title") or ""),
                flags=_flags(track.get("flags") or {}),
                action=action,
                detail="; ".join(details),
            )
        )
    for removed in plan.get("removed", []):
        rows.append(
            PlanRow(
                position="–",
                source=str(removed.get("source_index")),
                type="",
                codec="",
                language="",
                title="",
                flags="",
                action="removed",
                detail=str(removed.get("reason") or ""),
            )
        )
    return rows


def _show(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def kind_counts(kinds: Sequence[str | None]) -> list[tuple[str, int]]:
    """How many files of each plan kind (metadata / remux / encode / noop / error)."""
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind or "error"] = counts.get(kind or "error", 0) + 1
    order = ["metadata", "remux", "encode", "noop", "error"]
    return sorted(counts.items(), key=lambda item: order.index(item[0]) if item[0] in order else 9)
