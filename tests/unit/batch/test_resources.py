"""``[processing] encode_resources``: parsing and matching (pure)."""

from __future__ import annotations

import pytest

from vpo.batch.resources import describe, offered, parse_resources
from vpo.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("GPU=1", (("GPU", 1.0),)),
        (" VRAM=8, GPU=1 ", (("GPU", 1.0), ("VRAM", 8.0))),
        ("GPU=0.5", (("GPU", 0.5),)),
    ],
)
def test_encode_resources_read_like_dask_worker_resources(
    text: str, expected: tuple[tuple[str, float], ...]
) -> None:
    assert parse_resources(text) == expected


@pytest.mark.parametrize("text", ["GPU", "GPU=", "=1", "GPU=one", "GPU=0", "GPU=-1"])
def test_a_malformed_entry_is_named(text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_resources(text)
    assert str(raised.value) == (
        f"[processing] encode_resources: {text!r} is not NAME=AMOUNT (e.g. GPU=1)"
    )


def test_a_worker_offers_resources_when_it_has_at_least_the_amounts() -> None:
    wanted = parse_resources("GPU=1")
    assert offered(wanted, {"GPU": 1.0})
    assert offered(wanted, {"GPU": 2.0, "VRAM": 8.0})
    assert not offered(wanted, {})
    assert not offered(wanted, {"GPU": 0.5})
    assert offered((), {})
    assert describe(parse_resources("VRAM=8,GPU=1")) == "GPU=1,VRAM=8"


def test_routing_plans_with_the_files_metadata() -> None:
    """Whether a file encodes (and so needs the GPU workers) may depend on what
    Sonarr/Radarr know: the routing decision sees the same metadata as the worker."""
    from pathlib import Path

    from vpo.apply.settings import ApplySettings
    from vpo.batch.resources import plans_encode
    from vpo.media.metadata import FileMetadata, TitleMetadata
    from vpo.media.model import Container, MediaFile, Track, TrackType
    from vpo.policy.loader import parse_policy
    from vpo.probe.cheapest import CheapestProber
    from vpo.tools.locate import ToolPaths
    from vpo.workflow.context import WorkflowContext

    policy = parse_policy(
        "schema_version: 12\nphases:\n  - name: shrink\n"
        "    transcode: {video: {target_codec: hevc}}\n"
        "    conditional:\n      - name: keep-anime\n"
        '        when: "radarr:tags contains anime"\n'
        "        then: [{skip_video_transcode: true}]\n",
        "p.yaml",
    )
    context = WorkflowContext(
        policy=policy,
        phases=policy.phases,
        tools=ToolPaths(),
        settings=ApplySettings(),
        probe=CheapestProber(ToolPaths(), 60.0),
    )
    media = MediaFile(
        path=Path("a.mkv"),
        container=Container.MATROSKA,
        size=1,
        mtime_ns=0,
        tracks=(Track(0, 0, TrackType.VIDEO, "h264", "und", width=1920, height=1080),),
    )
    anime = FileMetadata((TitleMetadata(source="radarr", tags=("anime",)),))
    assert plans_encode(context, media)
    assert not plans_encode(context, media, anime)
