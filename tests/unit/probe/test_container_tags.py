"""Container tags: the Matroska global-tag parser, normalisation, and the
``container_metadata`` condition reading them (pure; real files in
tests/integration/test_container_tags.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpo.media.model import Container, MediaFile, container_tags
from vpo.policy.conditions import condition_holds
from vpo.policy.schema import PolicyConfig
from vpo.policy.schema_conditional import Condition
from vpo.probe import matroska_ids as ids
from vpo.probe.ebml import encode_element_id, encode_element_size
from vpo.probe.ffprobe_json import parse_ffprobe_json
from vpo.probe.matroska_elements import parse_global_tags


def el(element_id: int, *children: bytes) -> bytes:
    body = b"".join(children)
    return encode_element_id(element_id) + encode_element_size(len(body), None) + body


def uint(element_id: int, value: int) -> bytes:
    return el(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def simple(name: str, value: str | None, *nested: bytes) -> bytes:
    parts = [el(ids.TAG_NAME, name.encode())]
    if value is not None:
        parts.append(el(ids.TAG_STRING, value.encode()))
    return el(ids.SIMPLE_TAG, *parts, *nested)


def tag(targets: bytes, *simples: bytes) -> bytes:
    return el(ids.TAG, el(ids.TARGETS, targets), *simples)


def test_only_tags_without_a_uid_target_are_global() -> None:
    body = b"".join(
        (
            tag(b"", simple("COMMENT", "hello")),
            tag(uint(0x68CA, 50), simple("DIRECTOR", "Jane"), simple("Custom_Note", "x")),
            tag(uint(ids.TAG_TRACK_UID, 7), simple("BPS", "1000"), simple("ENCODER", "x264")),
            tag(uint(ids.TAG_EDITION_UID, 1), simple("TITLE", "edition")),
            tag(uint(ids.TAG_CHAPTER_UID, 2), simple("TITLE", "chapter")),
            tag(uint(ids.TAG_ATTACHMENT_UID, 3), simple("TITLE", "font")),
            tag(uint(ids.TAG_TRACK_UID, 0), simple("ZERO_UID", "global")),  # 0: no target
        )
    )
    assert parse_global_tags(body) == [
        ("COMMENT", "hello"),
        ("DIRECTOR", "Jane"),
        ("Custom_Note", "x"),
        ("ZERO_UID", "global"),
    ]


def test_nested_and_binary_simple_tags_are_not_container_tags() -> None:
    body = tag(
        b"",
        simple("ARTIST", "A", simple("URL", "http://example.invalid")),
        simple("COVER", None),  # a TagBinary value: no TagString
    )
    assert parse_global_tags(body) == [("ARTIST", "A")]


def test_container_tags_normalise_keys_values_and_the_title() -> None:
    pairs = [("ENCODER", " Lavf "), ("Encoder", "second"), ("EMPTY", "  "), ("TITLE", "tag")]
    assert container_tags(pairs, "Segment title") == (
        ("encoder", "Lavf"),
        ("title", "Segment title"),
    )
    assert container_tags(pairs) == (("encoder", "Lavf"), ("title", "tag"))


def test_ffprobe_format_tags_become_media_tags() -> None:
    data = {
        "format": {
            "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
            "duration": "2.0",
            "tags": {"major_brand": "isom", "title": "T", "COMMENT": "Hi", "encoder": "Lavf"},
        },
        "streams": [{"index": 0, "codec_type": "video", "codec_name": "h264"}],
    }
    media = parse_ffprobe_json(
        data, path=Path("m.mp4"), size=10, mtime_ns=0, inode=None, device=None
    )
    assert media.tags == (
        ("comment", "Hi"),
        ("encoder", "Lavf"),
        ("major_brand", "isom"),
        ("title", "T"),
    )
    assert media.tag("COMMENT") == "Hi"
    assert media.tag("absent") is None


def media_with(tags: dict[str, str], title: str | None = None) -> MediaFile:
    return MediaFile(
        path=Path("m.mkv"),
        container=Container.MATROSKA,
        size=1,
        mtime_ns=0,
        tracks=(),
        title=title,
        tags=container_tags(tags.items(), title),
    )


@pytest.mark.parametrize(
    ("test", "holds"),
    [
        ({"field": "encoder", "operator": "exists"}, True),
        ({"field": "ENCODER", "operator": "contains", "value": "LAVF"}, True),
        ({"field": "encoder", "value": "lavf59"}, True),
        ({"field": "encoder", "operator": "neq", "value": "lavf59"}, False),
        ({"field": "comment", "operator": "exists"}, False),
        ({"field": "comment", "operator": "neq", "value": "x"}, True),
        ({"field": "year", "operator": "gte", "value": 2000}, True),
        ({"field": "year", "operator": "lt", "value": 2000}, False),
        ({"field": "title", "value": "My Film"}, True),
    ],
)
def test_container_metadata_reads_every_tag(test: dict[str, object], holds: bool) -> None:
    media = media_with({"ENCODER": "Lavf59", "YEAR": "2004"}, title="My Film")
    condition = Condition.model_validate({"container_metadata": test})
    assert condition_holds(condition, [], [], PolicyConfig(), media) is holds


def test_the_title_a_plan_sets_is_what_later_conditions_read() -> None:
    """An earlier phase's plan changes MediaFile.title; the tag view follows it."""
    from dataclasses import replace

    media = replace(media_with({"ENCODER": "x"}, title="Old"), title="New")
    condition = Condition.model_validate({"container_metadata": {"field": "title", "value": "new"}})
    assert condition_holds(condition, [], [], PolicyConfig(), media)
