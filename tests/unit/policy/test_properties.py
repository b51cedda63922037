"""Property tests: convergence, the last audio track, one default per type.

Random track lists and random policies over every operation. Conditional rules
are drawn from the convergent subset: conditions look at video tracks (which no
operation changes) and actions never rename languages or retitle tracks into
commentary/forced; a rule that edits what it tests cannot converge by nature
(docs/policy.md, "Convergence").
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from vpo.media.model import Attachment, Container, MediaFile, Track, TrackFlags, TrackType
from vpo.plan import Plan, identity_plan
from vpo.policy.classify import is_commentary
from vpo.policy.convert import convert_policy
from vpo.policy.evaluate import EvaluationError, evaluate
from vpo.policy.loader import parse_policy
from vpo.policy.schema import ANALYSIS_CATEGORIES, Phase, Policy, TrackCategory

from .conftest import read_back

LANGUAGES = ["eng", "fre", "jpn", "ger", "und"]
TITLES = [None, "Commentary", "Director's notes", "Forced", "SDH", "Stereo", "Main"]
CODECS = {
    TrackType.VIDEO: ["h264", "hevc"],
    TrackType.AUDIO: ["aac", "ac3", "truehd", "dts", "flac", "opus"],
    TrackType.SUBTITLE: ["subrip", "ass", "hdmv_pgs_subtitle", "mov_text"],
}


@st.composite
def tracks(draw: st.DrawFn) -> Track:
    kind = draw(st.sampled_from(list(TrackType)))
    flags = TrackFlags(
        default=draw(st.booleans()),
        forced=draw(st.booleans()),
        commentary=draw(st.booleans()),
        original=draw(st.booleans()),
        hearing_impaired=draw(st.booleans()),
    )
    return Track(
        index=0,
        track_id=0,
        type=kind,
        codec=draw(st.sampled_from(CODECS[kind])),
        language=draw(st.sampled_from(LANGUAGES)),
        title=draw(st.sampled_from(TITLES)),
        flags=flags,
        channels=draw(st.sampled_from([1, 2, 6, 8])) if kind is TrackType.AUDIO else None,
        height=draw(st.sampled_from([480, 1080, 2160])) if kind is TrackType.VIDEO else None,
    )


@st.composite
def media_files(draw: st.DrawFn) -> MediaFile:
    drawn = draw(st.lists(tracks(), max_size=9))
    numbered = tuple(
        Track(**{**{s: getattr(t, s) for s in Track.__slots__}, "index": i, "track_id": i})
        for i, t in enumerate(drawn)
    )
    attachments = tuple(
        Attachment(attachment_id=i + 1, file_name=f"f{i}.ttf")
        for i in range(draw(st.integers(0, 2)))
    )
    return MediaFile(
        path=Path("m.mkv"),
        container=draw(st.sampled_from([Container.MATROSKA, Container.MP4])),
        size=10**9,
        mtime_ns=0,
        tracks=numbered,
        attachments=attachments,
        duration=3600.0,
    )


def _subset(values: list[str], min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), min_size=min_size, unique=True)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


video_condition = st.recursive(
    st.one_of(
        st.builds(
            lambda codec: {"exists": {"track_type": "video", "codec": codec}},
            st.sampled_from(CODECS[TrackType.VIDEO]),
        ),
        st.builds(
            lambda n: {"count": {"track_type": "video", "height": {"gte": 1080}, "gte": n}},
            st.integers(0, 2),
        ),
    ),
    lambda inner: st.one_of(
        st.builds(lambda c: {"not": c}, inner),
        st.builds(lambda cs: {"and": cs}, st.lists(inner, min_size=1, max_size=2)),
        st.builds(lambda cs: {"or": cs}, st.lists(inner, min_size=1, max_size=2)),
    ),
    max_leaves=3,
)

actions = st.one_of(
    st.builds(lambda m: {"warn": m}, st.sampled_from(["a", "b"])),
    st.builds(
        lambda c: {"set_default": {"track_type": "subtitle", "codec": c}},
        st.sampled_from(CODECS[TrackType.SUBTITLE]),
    ),
    st.builds(
        lambda c, v: {"set_forced": {"track_type": "audio", "codec": c, "value": v}},
        st.sampled_from(CODECS[TrackType.AUDIO]),
        st.booleans(),
    ),
    st.builds(
        lambda ch, title: {
            "set_title": {
                "track_type": "audio",
                "channels": ch,
                "title": {"regex": "^(Stereo|Surround|Main|SDH)?$"},  # never a commentary
                "to": title,
            }
        },
        # 2 only: on_incompatible_codec: transcode turns 7.1 TrueHD into 5.1 E-AC-3
        # after the rule ran, so a 6-channel test would match on the next run (the
        # documented limit: conditions on what the phase itself changes).
        st.just(2),
        st.sampled_from(["Stereo", "Surround", None]),
    ),
    st.builds(
        lambda targets: {"skip_track_filter": targets},
        _subset(["audio", "subtitle", "attachment"], 1),
    ),
)

rules = st.lists(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["r1", "r2"]), "when": video_condition},
        optional={
            "then": st.lists(actions, max_size=3),
            "else": st.lists(actions, max_size=2),
        },
    ),
    min_size=1,
    max_size=2,
)

cleanup = st.fixed_dictionaries(
    {},
    optional={
        k: st.booleans() for k in ("clear_all_default", "clear_all_forced", "clear_all_titles")
    },
)

phase_body = st.fixed_dictionaries(
    {"name": st.just("p")},
    optional={
        "audio_actions": cleanup,
        "subtitle_actions": cleanup,
        "video_actions": cleanup,
        "container": st.fixed_dictionaries(
            {
                "target": st.sampled_from(["mkv", "mp4"]),
                "on_incompatible_codec": st.sampled_from(["error", "skip", "transcode"]),
            }
        ),
        "audio_filter": st.fixed_dictionaries(
            {
                "languages": _subset(LANGUAGES, 1),
                "minimum": st.integers(0, 3),
                "fallback": st.fixed_dictionaries(
                    {"mode": st.sampled_from(["content_language", "keep_all", "keep_first"])}
                ),
            }
        ),
        "subtitle_filter": st.one_of(
            st.fixed_dictionaries(
                {"languages": _subset(LANGUAGES, 1), "preserve_forced": st.booleans()}
            ),
            st.fixed_dictionaries({"remove_all": st.just(True), "preserve_forced": st.booleans()}),
        ),
        "attachment_filter": st.fixed_dictionaries({"remove_all": st.booleans()}),
        "track_order": st.permutations(
            [c.value for c in TrackCategory if c not in ANALYSIS_CATEGORIES]
        ).flatmap(lambda order: st.integers(0, len(order)).map(lambda n: order[:n])),
        "default_flags": st.fixed_dictionaries(
            {},
            optional={
                name: st.booleans()
                for name in (
                    "set_first_video_default",
                    "set_preferred_audio_default",
                    "set_preferred_subtitle_default",
                    "clear_other_defaults",
                    "set_subtitle_default_when_audio_differs",
                )
            },
        ),
        "conditional": rules,
    },
)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    config = {
        "audio_language_preference": draw(_subset(LANGUAGES, 1)),
        "subtitle_language_preference": draw(_subset(LANGUAGES, 1)),
    }
    return Policy.model_validate(
        {"schema_version": 12, "config": config, "phases": [draw(phase_body)]}
    )


def _plan(policy: Policy, media: MediaFile) -> Plan | None:
    phase: Phase = policy.phases[0]
    try:
        return evaluate(phase, media, policy.config)
    except EvaluationError:
        return None  # e.g. MP4 with incompatible codecs under on_incompatible_codec: error


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(policy=policies(), media=media_files())
def test_applying_a_plan_and_evaluating_again_is_a_noop(policy: Policy, media: MediaFile) -> None:
    first = _plan(policy, media)
    if first is None:
        return
    second = _plan(policy, first.expected_result())
    assert second is not None
    assert second.is_noop, (second.kind, second.metadata_changes(), second.removed)


@SETTINGS
@given(
    policy=policies(),
    media=media_files(),
    container=st.sampled_from([c for c in Container if c is not Container.OTHER]),
)
def test_on_every_container_the_written_file_reads_back_as_planned(
    policy: Policy, media: MediaFile, container: Container
) -> None:
    """A file probes back with only what its container stores (read_back); planning
    on it again must still be a no-op (AVI has no default flags, MPEG-TS no titles …)."""
    source = read_back(replace(media, container=container))
    first = _plan(policy, source)
    if first is None:
        return
    second = _plan(policy, read_back(first.expected_result()))
    assert second is not None
    assert second.is_noop, (container, second.kind, second.metadata_changes(), second.removed)


@SETTINGS
@given(policy=policies(), media=media_files())
def test_last_audio_track_is_kept_unless_minimum_is_zero(policy: Policy, media: MediaFile) -> None:
    plan = _plan(policy, media)
    if plan is None or not media.audio_tracks:
        return
    audio_filter = policy.phases[0].audio_filter
    kept = [t for t in plan.tracks if t.type is TrackType.AUDIO]
    if audio_filter is None or audio_filter.minimum >= 1:
        assert kept
    if audio_filter is not None:
        # minimum counts non-commentary tracks (all tracks when all are commentary),
        # classified as the filter sees them: after the clean-ups, before any action.
        actions = policy.phases[0].audio_actions
        clear_titles = actions is not None and actions.clear_all_titles
        as_filtered = {
            t.source_index: replace(t, title=None) if clear_titles else t
            for t in identity_plan(media, "p").tracks
            if t.type is TrackType.AUDIO
        }
        spoken = {i for i, t in as_filtered.items() if not is_commentary(t, policy.config)}
        counted = spoken or set(as_filtered)
        kept_counted = [t for t in kept if t.source_index in counted]
        assert len(kept_counted) >= min(audio_filter.minimum, len(counted))


@SETTINGS
@given(policy=policies(), media=media_files())
def test_clear_other_defaults_leaves_at_most_one_default_per_type(
    policy: Policy, media: MediaFile
) -> None:
    default_flags = policy.phases[0].default_flags
    if default_flags is None or not default_flags.clear_other_defaults:
        return
    plan = _plan(policy, media)
    if plan is None:
        return
    for kind in TrackType:
        assert sum(t.flags.default for t in plan.tracks if t.type is kind) <= 1


# -- property: the same policy written as 12 and as 13 plans identically --------------------

_VIDEO = st.fixed_dictionaries(
    {"target_codec": st.sampled_from(["hevc", "h264"])},
    optional={
        "quality": st.fixed_dictionaries(
            {},
            optional={
                "crf": st.integers(10, 40),
                "preset": st.sampled_from(["slow", "medium"]),
                "tune": st.sampled_from(["film", "animation"]),
            },
        ),
        "scaling": st.fixed_dictionaries(
            {},
            optional={
                "max_resolution": st.sampled_from(["720p", "1080p"]),
                "algorithm": st.sampled_from(["lanczos", "bicubic"]),
                "upscale": st.booleans(),
            },
        ),
        "hardware_acceleration": st.fixed_dictionaries(
            {},
            optional={
                "enabled": st.sampled_from(["none", "auto"]),
                "fallback_to_cpu": st.booleans(),
            },
        ),
    },
)
_AUDIO = st.fixed_dictionaries(
    {},
    optional={
        "preserve_codecs": _subset(["truehd", "flac", "dts"]),
        "transcode_to": st.sampled_from(["aac", "opus"]),
        "transcode_bitrate": st.sampled_from(["128k", "192k"]),
    },
)


@st.composite
def v12_documents(draw: st.DrawFn) -> dict[str, Any]:
    phase = dict(draw(phase_body))
    if draw(st.booleans()):
        phase["skip_when"] = {
            "match": draw(st.sampled_from(["any", "all"])),
            "video_codec": draw(_subset(["hevc", "av1"], 1)),
        }
    if draw(st.booleans()):
        phase["transcode"] = draw(
            st.fixed_dictionaries({}, optional={"video": _VIDEO, "audio": _AUDIO})
        )
    return {
        "schema_version": 12,
        "config": {
            "audio_language_preference": draw(_subset(LANGUAGES, 1)),
            "subtitle_language_preference": draw(_subset(LANGUAGES, 1)),
        },
        "phases": [phase],
    }


def _dump(document: dict[str, Any]) -> str:
    out = io.StringIO()
    YAML(typ="rt").dump(document, out)
    return out.getvalue()


def _plan_or_error(policy: Policy, media: MediaFile) -> Plan | str:
    try:
        return evaluate(policy.phases[0], media, policy.config)
    except EvaluationError as error:
        return error.cause


def _same(a: Policy, b: Policy) -> bool:
    return a.model_copy(update={"schema_version": 0}) == b.model_copy(update={"schema_version": 0})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=v12_documents(), media=media_files())
def test_the_same_policy_as_12_and_as_13_plans_identically(
    document: dict[str, Any], media: MediaFile
) -> None:
    text12 = _dump(document)
    text13 = convert_policy(text12, 13).text
    assert "schema_version: 13" in text13
    back = convert_policy(text13, 12).text
    as12, as13, again = parse_policy(text12), parse_policy(text13), parse_policy(back)
    assert _plan_or_error(as12, media) == _plan_or_error(as13, media)
    assert _plan_or_error(as12, media) == _plan_or_error(again, media)
    assert _same(as12, as13) and _same(as12, again)
