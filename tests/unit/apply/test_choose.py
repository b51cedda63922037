from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from vpo.apply.choose import Tool, choose_tool
from vpo.media.model import Container
from vpo.plan import EncodeSettings, Plan, RemovedTrack

With = Callable[..., Plan]


def test_noop_plan_needs_no_tool(plan_of: Callable[..., Plan], with_track: With) -> None:
    assert choose_tool(plan_of()).tool is Tool.NONE


@pytest.mark.parametrize("container", [Container.MATROSKA, Container.WEBM])
def test_header_change_on_matroska_is_mkvpropedit(
    plan_of: Callable[..., Plan], with_track: With, container: Container
) -> None:
    plan = with_track(plan_of(container), 2, language="ger")
    choice = choose_tool(plan)
    assert choice.tool is Tool.MKVPROPEDIT
    assert not choice.rewrites


def test_header_change_on_mp4_is_ffmpeg(plan_of: Callable[..., Plan], with_track: With) -> None:
    plan = with_track(plan_of(Container.MP4, "/lib/a.mp4"), 1, default=False)
    assert choose_tool(plan).tool is Tool.FFMPEG


def test_drop_in_matroska_is_mkvmerge(plan_of: Callable[..., Plan], with_track: With) -> None:
    plan = plan_of()
    plan = replace(plan, tracks=plan.tracks[:3], removed=(RemovedTrack(3, "unwanted"),))
    choice = choose_tool(plan)
    assert choice.tool is Tool.MKVMERGE
    assert choice.rewrites


def test_reorder_is_mkvmerge(plan_of: Callable[..., Plan], with_track: With) -> None:
    plan = plan_of()
    tracks = plan.tracks
    plan = replace(plan, tracks=(tracks[0], tracks[2], tracks[1], tracks[3]))
    assert choose_tool(plan).tool is Tool.MKVMERGE


def test_conversion_into_matroska_is_mkvmerge(
    plan_of: Callable[..., Plan], with_track: With
) -> None:
    plan = replace(plan_of(Container.MP4, "/lib/a.mp4"), container=Container.MATROSKA)
    choice = choose_tool(plan)
    assert choice.tool is Tool.MKVMERGE
    assert "mkv" in choice.reason


def test_conversion_to_mp4_is_ffmpeg(plan_of: Callable[..., Plan], with_track: With) -> None:
    plan = replace(plan_of(), container=Container.MP4)
    assert choose_tool(plan).tool is Tool.FFMPEG


def test_encode_is_ffmpeg_even_in_matroska(plan_of: Callable[..., Plan], with_track: With) -> None:
    plan = with_track(plan_of(), 2, encode=EncodeSettings("aac"), codec="aac")
    assert choose_tool(plan).tool is Tool.FFMPEG
