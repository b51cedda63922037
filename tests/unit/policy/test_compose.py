"""compose_plans: a chain of phase plans as one plan from the original (pure).

The property: the composed plan's expected result is the chain's expected result
(every field but ``language_ietf``, see the module docstring), and the same tracks
of the original are removed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vpo.media.model import Attachment, Container, MediaFile, Track, TrackFlags, TrackType
from vpo.plan import (
    UNCHANGED,
    AudioEncode,
    EncodeSettings,
    Plan,
    PlanKind,
    PlannedTrack,
    RemovedTrack,
    identity_plan,
)
from vpo.policy.compose import NotComposableError, compose_plans
from vpo.policy.phases import PhaseOutcome, evaluate_file

from .conftest import Build

LANGUAGES = ["eng", "fre", "jpn", "und"]
TITLES = [None, "Main", "Commentary", "Stereo"]
CODECS = {
    TrackType.VIDEO: ["h264", "hevc"],
    TrackType.AUDIO: ["aac", "ac3", "opus"],
    TrackType.SUBTITLE: ["subrip", "ass"],
}


def flag_sets() -> st.SearchStrategy[TrackFlags]:
    return st.builds(
        TrackFlags,
        default=st.booleans(),
        forced=st.booleans(),
        commentary=st.booleans(),
        original=st.booleans(),
    )


@st.composite
def media_files(draw: st.DrawFn) -> MediaFile:
    count = draw(st.integers(1, 7))
    tracks = []
    for index in range(count):
        kind = draw(st.sampled_from(list(TrackType)))
        tracks.append(
            Track(
                index=index,
                track_id=index,
                type=kind,
                codec=draw(st.sampled_from(CODECS[kind])),
                language=draw(st.sampled_from(LANGUAGES)),
                language_ietf=draw(st.sampled_from([None, "en-US"])),
                title=draw(st.sampled_from(TITLES)),
                flags=draw(flag_sets()),
                channels=6 if kind is TrackType.AUDIO else None,
                bit_rate=draw(st.sampled_from([None, 128_000])),
            )
        )
    return MediaFile(
        path=Path("m.mkv"),
        container=Container.MATROSKA,
        size=10**6,
        mtime_ns=0,
        tracks=tuple(tracks),
        attachments=tuple(
            Attachment(attachment_id=i + 1, file_name=f"f{i}.ttf")
            for i in range(draw(st.integers(0, 2)))
        ),
        duration=60.0,
        bit_rate=2_000_000,
        title=draw(st.sampled_from([None, "Old title"])),
    )


@st.composite
def next_plan(draw: st.DrawFn, media: MediaFile, phase: str) -> Plan:
    """A random plan on ``media``: drop, reorder, edit headers, encode, add, convert."""
    indexes = list(range(len(media.tracks)))
    kept = draw(st.permutations(indexes))
    kept = kept[: draw(st.integers(1, len(kept)))] if kept else kept
    planned: list[PlannedTrack] = []
    for index in kept:
        track = media.tracks[index]
        encode = None
        codec = track.codec
        if track.type is TrackType.AUDIO and draw(st.integers(0, 4)) == 0:
            codec = "aac"
            encode = EncodeSettings(
                codec, audio=AudioEncode(channels=draw(st.sampled_from([2, None])))
            )
        planned.append(
            PlannedTrack(
                source_index=index,
                type=track.type,
                codec=codec,
                language=draw(st.sampled_from([track.language, *LANGUAGES])),
                title=draw(st.sampled_from([track.title, *TITLES])),
                flags=draw(st.sampled_from([track.flags]))
                if draw(st.booleans())
                else draw(flag_sets()),
                encode=encode,
            )
        )
    audio = [i for i in indexes if media.tracks[i].type is TrackType.AUDIO]
    if audio and draw(st.integers(0, 4)) == 0:
        planned.append(
            PlannedTrack(
                source_index=None,
                type=TrackType.AUDIO,
                codec="aac",
                language="eng",
                title="Stereo",
                flags=TrackFlags(),
                encode=EncodeSettings(
                    "aac", audio=AudioEncode(channels=2), derived_from=draw(st.sampled_from(audio))
                ),
            )
        )
    attachments = [a.attachment_id for a in media.attachments]
    title = draw(st.sampled_from([UNCHANGED, UNCHANGED, None, "Film", media.title]))
    return Plan(
        source=media,
        phase=phase,
        container=draw(st.sampled_from([media.container, Container.MATROSKA, Container.WEBM])),
        tracks=tuple(planned),
        removed=tuple(RemovedTrack(i, f"{phase} drops it") for i in indexes if i not in kept),
        removed_attachments=tuple(draw(st.lists(st.sampled_from(attachments), unique=True)))
        if attachments
        else (),
        title=title,
    )


@st.composite
def chains(draw: st.DrawFn) -> list[Plan]:
    media = draw(media_files())
    plans: list[Plan] = []
    for number in range(draw(st.integers(1, 4))):
        plan = draw(next_plan(media, f"p{number}"))
        plans.append(plan)
        media = plan.expected_result()
    return plans


def _comparable(media: MediaFile) -> MediaFile:
    """Without the two fields one pass knows better than the chain (module docstring)."""
    return replace(
        media,
        bit_rate=None,
        tracks=tuple(replace(t, language_ietf=None) for t in media.tracks),
    )


def _encodes_twice(plans: list[Plan]) -> bool:
    """Independent of compose: does any final track pass through two encodes (or is
    one derived from an encoded or synthesised track)?"""
    encoded = [False] * len(plans[0].source.tracks)
    for plan in plans:
        following: list[bool] = []
        for track in plan.tracks:
            if track.source_index is None:
                derived = track.encode.derived_from if track.encode else None
                if derived is not None and encoded[derived]:
                    return True
                following.append(True)
            else:
                if track.encode is not None and encoded[track.source_index]:
                    return True
                following.append(encoded[track.source_index] or track.encode is not None)
        encoded = following
    return False


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(plans=chains())
def test_composed_plan_gives_the_chains_expected_result(plans: list[Plan]) -> None:
    if _encodes_twice(plans):
        with pytest.raises(NotComposableError):
            compose_plans(plans)
        return
    composed = compose_plans(plans)
    assert composed.source is plans[0].source
    result = composed.expected_result()
    assert _comparable(result) == _comparable(plans[-1].expected_result())
    if composed.kind is not PlanKind.ENCODE:  # an encode a later phase dropped never runs
        assert result.bit_rate == plans[0].source.bit_rate
    kept = {t.source_index for t in composed.tracks if t.source_index is not None}
    assert {r.source_index for r in composed.removed} == set(
        range(len(plans[0].source.tracks))
    ) - kept


@PROPERTY
@given(plans=chains())
def test_composed_kind_is_the_costliest_the_one_pass_needs(plans: list[Plan]) -> None:
    if _encodes_twice(plans):
        return
    composed = compose_plans(plans)
    order = list(PlanKind)  # cheapest first
    # never more work than the costliest phase; often less (a move undone, an encode
    # of a track a later phase drops)
    assert order.index(composed.kind) <= max(order.index(p.kind) for p in plans)


def test_a_language_changed_and_changed_back_keeps_the_original_ietf_tag(build: Build) -> None:
    media = replace(
        build.media(build.track("video", "h264"), build.track("audio", "aac", "eng")),
    )
    media = replace(
        media, tracks=(media.tracks[0], replace(media.tracks[1], language_ietf="en-GB"))
    )
    first = identity_plan(media, "a")
    first = replace(first, tracks=(first.tracks[0], replace(first.tracks[1], language="fre")))
    second = identity_plan(first.expected_result(), "b")
    second = replace(second, tracks=(second.tracks[0], replace(second.tracks[1], language="eng")))
    composed = compose_plans([first, second])
    assert composed.is_noop
    assert composed.expected_result().tracks[1].language_ietf == "en-GB"


def test_filter_then_reorder_is_one_remux_from_the_original(build: Build) -> None:
    policy = build.policy(
        """
        - name: filter
          subtitle_filter: {languages: [eng]}
        - name: order
          track_order: [video, audio_main, audio_alternate, subtitle_main]
          default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
        """,
        "audio_language_preference: [eng]\nsubtitle_language_preference: [eng]\n",
    )
    media = build.media(
        build.track("video", "h264"),
        build.track("audio", "aac", "fre", default=True),
        build.track("audio", "aac", "eng"),
        build.track("subtitle", "subrip", "ger"),
        build.track("subtitle", "subrip", "eng"),
    )
    evaluation = evaluate_file(policy, policy.phases, media)
    assert [r.outcome for r in evaluation.phases] == [PhaseOutcome.COMPLETED] * 2
    composed = compose_plans(evaluation.plans)
    assert composed.phase == "filter+order"
    assert [t.source_index for t in composed.tracks] == [0, 2, 1, 4]
    assert [(r.source_index, r.reason) for r in composed.removed] == [
        (3, evaluation.plans[0].removed[0].reason)
    ]
    assert [t.flags.default for t in composed.tracks] == [True, True, False, False]
    assert composed.expected_result() == evaluation.final


def test_an_encode_then_a_header_edit_is_one_encode_from_the_original(build: Build) -> None:
    media = build.media(build.track("video", "h264"), build.track("audio", "ac3", channels=6))
    first = identity_plan(media, "encode")
    audio = first.tracks[1]
    first = replace(
        first,
        tracks=(
            first.tracks[0],
            replace(
                audio, codec="aac", encode=EncodeSettings("aac", audio=AudioEncode(channels=2))
            ),
        ),
    )
    second = identity_plan(first.expected_result(), "title")
    second = replace(second, tracks=(second.tracks[0], replace(second.tracks[1], title="Stereo")))
    composed = compose_plans([first, second])
    assert composed.kind is PlanKind.ENCODE
    assert composed.tracks[1].source_index == 1
    assert composed.tracks[1].encode == first.tracks[1].encode
    assert composed.tracks[1].title == "Stereo"
    assert composed.expected_result() == second.expected_result()


def test_a_track_encoded_twice_is_not_composable(build: Build) -> None:
    media = build.media(build.track("audio", "ac3", channels=6))
    encode = EncodeSettings("aac", audio=AudioEncode(channels=2))
    first = identity_plan(media, "one")
    first = replace(first, tracks=(replace(first.tracks[0], codec="aac", encode=encode),))
    second = identity_plan(first.expected_result(), "two")
    second = replace(second, tracks=(replace(second.tracks[0], codec="opus", encode=encode),))
    with pytest.raises(NotComposableError, match="already encodes"):
        compose_plans([first, second])
