"""file_timestamp planning (pure): which release date, which fallback, convergence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpo.media.metadata import NO_METADATA, RELEASE_DATE_KINDS, FileMetadata, TitleMetadata
from vpo.media.model import Container, MediaFile
from vpo.plan import Plan, PlanKind, TimeSource
from vpo.policy.evaluate import evaluate
from vpo.policy.schema import FileTimestamp
from vpo.policy.timestamps import plan_file_time
from vpo.workflow.changes import describe_plan

if TYPE_CHECKING:
    from conftest import Build

DAY = 86_400 * 1_000_000_000
JULY_20_2001 = 995_587_200 * 1_000_000_000

RADARR = TitleMetadata(
    source="radarr",
    release_dates=(
        ("in_cinemas", "2001-07-20T00:00:00Z"),
        ("physical_release", "2003-04-15T00:00:00Z"),
        ("digital_release", "2002-11-02T00:00:00Z"),
    ),
)
SONARR = TitleMetadata(
    source="sonarr", release_dates=(("first_aired", "1998-04-03"), ("air_date", "1998-10-23"))
)


def chosen(metadata: FileMetadata, **rule: str) -> str:
    wanted, _ = plan_file_time(
        FileTimestamp.model_validate({"mode": "release_date", **rule}), metadata
    )
    assert wanted is not None
    return wanted.reason


@pytest.mark.parametrize(
    ("titles", "source", "reason"),
    [
        ((RADARR,), "auto", "release date 2002-11-02 (radarr digital_release)"),
        (
            (TitleMetadata(source="radarr", release_dates=RADARR.release_dates[:2]),),
            "auto",
            "release date 2003-04-15 (radarr physical_release)",
        ),
        (
            (TitleMetadata(source="radarr", release_dates=RADARR.release_dates[:1]),),
            "auto",
            "release date 2001-07-20 (radarr in_cinemas)",
        ),
        ((SONARR,), "auto", "release date 1998-10-23 (sonarr air_date)"),
        (
            (TitleMetadata(source="sonarr", release_dates=SONARR.release_dates[:1]),),
            "auto",
            "release date 1998-04-03 (sonarr first_aired)",
        ),
        ((SONARR, RADARR), "auto", "release date 2002-11-02 (radarr digital_release)"),
        ((SONARR, RADARR), "sonarr", "release date 1998-10-23 (sonarr air_date)"),
        (
            (
                TitleMetadata(source="radarr", release_dates=(("digital_release", "0001-01-01"),)),
                SONARR,
            ),
            "auto",
            "release date 1998-10-23 (sonarr air_date)",
        ),
    ],
)
def test_release_date_order_follows_the_original_vpo(
    titles: tuple[TitleMetadata, ...], source: str, reason: str
) -> None:
    assert chosen(FileMetadata(titles), date_source=source) == reason


@pytest.mark.parametrize(
    ("fallback", "source"),
    [("preserve", TimeSource.ORIGINAL), ("now", TimeSource.NOW), ("skip", None)],
)
def test_without_a_date_the_fallback_decides(fallback: str, source: TimeSource | None) -> None:
    rule = FileTimestamp.model_validate(
        {"mode": "release_date", "fallback": fallback, "date_source": "radarr"}
    )
    for metadata in (NO_METADATA, FileMetadata((SONARR,))):
        wanted, note = plan_file_time(rule, metadata)
        assert (wanted.source if wanted else None) is source
        assert note.startswith(f"file_timestamp: no release date from radarr; fallback {fallback}")


def media(mtime_ns: int) -> MediaFile:
    return MediaFile(
        path=Path("a.mkv"), container=Container.MATROSKA, size=1, mtime_ns=mtime_ns, tracks=()
    )


def test_a_release_date_is_a_time_only_change_until_it_is_set(build: Build) -> None:
    phase, policy = build.phase("file_timestamp: {mode: release_date}")
    metadata = FileMetadata((RADARR,))
    plan = evaluate(phase, media(5), policy.config, metadata)
    assert plan.kind is PlanKind.METADATA and plan.only_time_changes
    assert describe_plan(plan) == (
        "file time → 2002-11-02 00:00 UTC (release date 2002-11-02 (radarr digital_release))",
    )
    assert evaluate(phase, plan.expected_result(), policy.config, metadata).is_noop


@pytest.mark.parametrize("mode", ["preserve", "now"])
def test_preserve_and_now_are_no_change_by_themselves(build: Build, mode: str) -> None:
    phase, policy = build.phase(f"file_timestamp: {{mode: {mode}}}")
    plan = evaluate(phase, media(5), policy.config, FileMetadata((RADARR,)))
    assert plan.is_noop and plan.file_time is not None


_DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.text(max_size=30),
)


@settings(max_examples=200, deadline=None)
@given(
    titles=st.lists(
        st.builds(
            TitleMetadata,
            source=st.sampled_from(["radarr", "sonarr"]),
            release_dates=st.lists(
                st.tuples(st.sampled_from(RELEASE_DATE_KINDS), _DATES), max_size=4
            ).map(tuple),
        ),
        max_size=2,
    ),
    rule=st.builds(
        FileTimestamp,
        mode=st.sampled_from(["preserve", "release_date", "now"]),
        fallback=st.sampled_from(["preserve", "now", "skip"]),
        date_source=st.sampled_from(["auto", "radarr", "sonarr"]),
    ),
    mtime_ns=st.integers(0, 2**62),
)
def test_file_timestamp_never_raises_and_converges(
    titles: list[TitleMetadata], rule: FileTimestamp, mtime_ns: int
) -> None:
    """Whatever dates Sonarr/Radarr sent, planning answers, a release time is a whole
    UTC day, and applying the plan leaves nothing to do."""
    metadata = FileMetadata(tuple(titles))
    wanted, note = plan_file_time(rule, metadata)
    assert note.startswith("file_timestamp")
    if wanted is not None and wanted.mtime_ns is not None:
        assert wanted.source is TimeSource.RELEASE and wanted.mtime_ns % DAY == 0
        assert wanted.mtime_ns >= -70 * 365 * DAY  # 1900 or later
    plan = Plan(
        source=media(mtime_ns), phase="p", container=Container.MATROSKA, tracks=(), file_time=wanted
    )
    again = Plan(
        source=plan.expected_result(),
        phase="p",
        container=Container.MATROSKA,
        tracks=(),
        file_time=wanted,
    )
    assert again.is_noop
