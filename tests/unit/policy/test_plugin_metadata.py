"""Policies on Sonarr/Radarr metadata (pure): plugin_metadata conditions, the
``radarr:field`` expressions, from_plugin_metadata and ``original`` in language lists."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpo.media.metadata import NO_METADATA, RELEASE_DATE_KINDS, FileMetadata, TitleMetadata
from vpo.media.model import MediaFile
from vpo.plan import Plan
from vpo.policy.evaluate import evaluate
from vpo.policy.loader import PolicyError
from vpo.policy.metadata_fields import FIELDS
from vpo.policy.plugin_metadata import plugin_holds
from vpo.policy.schema_conditional import PluginMetadataTest
from vpo.testmedia.metadata import SPIRITED_AWAY

if TYPE_CHECKING:
    from conftest import Build

A, S, V = "audio", "subtitle", "video"

FILM = replace(
    SPIRITED_AWAY,
    tags=("anime", "4K"),
    genres=("Animation", "Fantasy"),
    release_dates=(("in_cinemas", "2001-07-20"), ("physical_release", "2003-04-15")),
)
EPISODE = TitleMetadata(
    source="sonarr",
    title="Episode 1",
    series_title="Cowboy Bebop",
    season=1,
    episode=1,
    original_language="jpn",
    tags=("Anime",),
    release_dates=(("air_date", "1998-04-03T00:00:00Z"),),
)
KNOWN = FileMetadata((FILM, EPISODE))


def holds(metadata: FileMetadata = KNOWN, **test: Any) -> bool:
    return plugin_holds(PluginMetadataTest.model_validate(test), metadata)


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        ({"plugin": "radarr", "field": "original_language", "value": "jpn"}, True),
        ({"plugin": "radarr", "field": "original_language", "value": "ja"}, True),
        ({"plugin": "Radarr", "field": "original_language", "value": "Japanese"}, True),
        ({"plugin": "radarr", "field": "original_language", "value": "fre"}, False),
        (
            {"plugin": "radarr", "field": "original_language", "value": "fr", "operator": "neq"},
            True,
        ),
        (
            {
                "plugin": "radarr",
                "field": "original_language",
                "operator": "in",
                "value": ["ko", "ja"],
            },
            True,
        ),
        ({"plugin": "radarr", "field": "tags", "operator": "contains", "value": "ANIME"}, True),
        ({"plugin": "radarr", "field": "tags", "operator": "contains", "value": "anim"}, False),
        ({"plugin": "radarr", "field": "tags", "value": "4k"}, True),
        ({"plugin": "radarr", "field": "tags", "operator": "neq", "value": "anime"}, False),
        (
            {
                "plugin": "radarr",
                "field": "genres",
                "operator": "in",
                "value": ["drama", "animation"],
            },
            True,
        ),
        ({"plugin": "radarr", "field": "title", "operator": "contains", "value": "spirited"}, True),
        ({"plugin": "radarr", "field": "year", "operator": "gte", "value": 2001}, True),
        ({"plugin": "radarr", "field": "year", "operator": "lt", "value": 2001}, False),
        ({"plugin": "radarr", "field": "year", "value": 2001}, True),
        ({"plugin": "radarr", "field": "year", "value": "2001"}, True),
        (
            {"plugin": "radarr", "field": "in_cinemas", "operator": "lt", "value": "2002-01-01"},
            True,
        ),
        ({"plugin": "radarr", "field": "in_cinemas", "operator": "gt", "value": 2000}, False),
        ({"plugin": "sonarr", "field": "air_date", "operator": "gte", "value": "1998-04-03"}, True),
        ({"plugin": "sonarr", "field": "series_title", "value": "cowboy bebop"}, True),
        ({"plugin": "sonarr", "field": "season_number", "value": 1}, True),  # original VPO name
        ({"plugin_metadata": "radarr:tmdb_id", "operator": "exists"}, True),
        ({"plugin": "radarr", "field": "imdb_id", "operator": "exists"}, False),
        ({"plugin": "radarr", "field": "digital_release", "operator": "neq", "value": "x"}, False),
        ({"plugin": "sonarr", "field": "genres", "operator": "neq", "value": "drama"}, False),
    ],
)
def test_plugin_metadata_tests(test: dict[str, Any], expected: bool) -> None:
    assert holds(**test) is expected


@pytest.mark.parametrize("operator", ["eq", "neq", "contains", "lt", "gt", "exists"])
def test_missing_metadata_is_false_whatever_the_operator(operator: str) -> None:
    value = None if operator == "exists" else "jpn"
    test = {"plugin": "radarr", "field": "original_language", "operator": operator, "value": value}
    assert not holds(NO_METADATA, **test)
    only_sonarr = FileMetadata((EPISODE,))
    assert not holds(only_sonarr, **test)
    unknown = FileMetadata((TitleMetadata(source="radarr"),))
    assert not holds(unknown, **test)


@pytest.mark.parametrize(
    ("test", "message"),
    [
        ({"plugin": "plex", "field": "tags", "operator": "exists"}, "unknown plugin 'plex'"),
        (
            {"plugin": "radarr", "field": "orginal_language", "value": "x"},
            "did you mean 'original_language'?",
        ),
        ({"plugin": "radarr", "field": "tags", "operator": "in", "value": "x"}, "takes a list"),
        ({"plugin": "radarr", "field": "tags", "value": ["x"]}, "takes one value, not a list"),
        ({"plugin": "radarr", "field": "tags"}, "needs a value"),
        ({"plugin": "radarr", "field": "original_language", "value": "xq"}, "unknown language"),
        ({"plugin_metadata": "radarr.tags", "operator": "exists"}, "written 'plugin:field'"),
    ],
)
def test_invalid_tests_are_policy_errors(test: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PluginMetadataTest.model_validate(test)


_TEXT = st.one_of(st.none(), st.text(max_size=12))
_TITLES = st.builds(
    TitleMetadata,
    source=st.sampled_from(["radarr", "sonarr"]),
    title=_TEXT,
    year=st.one_of(st.none(), st.integers(-5, 3000)),
    original_language=st.one_of(_TEXT, st.sampled_from(["jpn", "ja", "Japanese", "xx", ""])),
    tags=st.lists(st.text(max_size=8), max_size=3).map(tuple),
    genres=st.lists(st.text(max_size=8), max_size=3).map(tuple),
    release_dates=st.lists(
        st.tuples(st.sampled_from(RELEASE_DATE_KINDS), st.text(max_size=25)), max_size=3
    ).map(tuple),
)
_VALUES = st.one_of(
    st.text(min_size=1, max_size=10).filter(str.strip),
    st.integers(-10, 3000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    titles=st.lists(_TITLES, max_size=2),
    field=st.sampled_from(sorted(FIELDS - {"original_language"})),
    operator=st.sampled_from(["eq", "neq", "contains", "in", "lt", "lte", "gt", "gte", "exists"]),
    value=_VALUES,
)
def test_no_metadata_ever_makes_a_test_raise(
    titles: list[TitleMetadata], field: str, operator: str, value: object
) -> None:
    """Whatever Sonarr/Radarr sent (or did not), a valid test answers true or false;
    with no metadata at all it is false."""
    given_value = None if operator == "exists" else [value] if operator == "in" else value
    test = PluginMetadataTest(
        plugin="radarr",
        field=field,
        operator=operator,
        value=given_value,  # type: ignore[arg-type]
    )
    assert plugin_holds(test, FileMetadata(tuple(titles))) in (True, False)
    assert plugin_holds(test, NO_METADATA) is False


# -- through a policy -----------------------------------------------------------------


@pytest.fixture
def anime(build: Build) -> MediaFile:
    return build.media(
        build.track(V, "h264", "und"),
        build.track(A, "aac", "eng", default=True),
        build.track(A, "aac", "jpn"),
        build.track(A, "aac", "ger"),
        build.track(S, "subrip", "eng"),
        build.track(S, "subrip", "jpn"),
        build.track(S, "subrip", "ger"),
        name="anime.mkv",
    )


def plan_of(
    build: Build, body: str, media: MediaFile, metadata: FileMetadata, config: str = ""
) -> Plan:
    phase, policy = build.phase(body, config)
    return evaluate(phase, media, policy.config, metadata)


def radarr(language: str | None = None, **fields: Any) -> FileMetadata:
    return FileMetadata((TitleMetadata(source="radarr", original_language=language, **fields),))


def audio_of(plan: Plan) -> list[tuple[str, bool]]:
    return [(t.language, t.flags.default) for t in plan.tracks if t.type.value == A]


@pytest.mark.parametrize(
    ("when", "metadata", "fires"),
    [
        ("radarr:original_language == jpn", radarr("jpn"), True),
        ("radarr:original_language == 'ja'", radarr("jpn"), True),
        ("radarr:original_language == jpn", radarr("fre"), False),
        ("radarr:original_language == jpn", NO_METADATA, False),
        ("not radarr:original_language == jpn", NO_METADATA, True),
        ("radarr:original_language != jpn", NO_METADATA, False),
        ("sonarr:tags contains anime or radarr:tags contains anime", radarr(tags=("Anime",)), True),
        ("radarr:original_language in [kor, jpn]", radarr("jpn"), True),
        ("radarr:original_language", radarr("jpn"), True),
        ("radarr:original_language and audio.language == jpn", radarr("jpn"), True),
        ("plugin(radarr, original_language) == jpn", radarr("jpn"), True),
    ],
)
def test_expressions_on_metadata_pick_the_rule(
    build: Build, anime: MediaFile, when: str, metadata: FileMetadata, fires: bool
) -> None:
    body = (
        f'conditional:\n  - name: r\n    when: "{when}"\n'
        "    then: [{set_default: {track_type: audio, language: jpn}}]\n"
    )
    plan = plan_of(build, body, anime, metadata)
    assert (audio_of(plan)[1] == ("jpn", True)) is fires


def test_set_language_from_plugin_metadata(build: Build, anime: MediaFile) -> None:
    body = (
        'conditional:\n  - name: r\n    when: "video.exists"\n    then:\n'
        "      - set_language: {track_type: audio, language: ger,"
        " from_plugin_metadata: {plugin: radarr, field: original_language}}\n"
    )
    plan = plan_of(build, body, anime, radarr("ja"))
    assert [lang for lang, _ in audio_of(plan)] == ["eng", "jpn", "jpn"]
    unknown = plan_of(build, body, anime, NO_METADATA)
    assert unknown.is_noop
    assert "set_language: radarr:original_language unknown for this file; unchanged" in (
        unknown.notes
    )


def test_set_container_title_from_plugin_metadata(build: Build, anime: MediaFile) -> None:
    body = (
        'conditional:\n  - name: r\n    when: "video.exists"\n    then:\n'
        "      - set_container_metadata: {field: title,"
        " from_plugin_metadata: {plugin: radarr, field: title}}\n"
    )
    plan = plan_of(build, body, anime, radarr(title="Spirited Away"))
    assert plan.title_change() == (None, "Spirited Away")
    assert plan_of(build, body, anime, NO_METADATA).is_noop


KEEP_ORIGINAL = """\
audio_filter: {languages: [original, eng]}
subtitle_filter: {languages: [eng, original]}
default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
"""


def test_original_keeps_the_titles_language_and_makes_it_the_default(
    build: Build, anime: MediaFile
) -> None:
    config = "audio_language_preference: [original, eng]"
    plan = plan_of(build, KEEP_ORIGINAL, anime, radarr("jpn"), config)
    assert audio_of(plan) == [("eng", False), ("jpn", True)]
    assert [t.language for t in plan.tracks if t.type.value == S] == ["eng", "jpn"]
    assert (
        "original language is jpn (audio_language_preference, audio_filter, subtitle_filter)"
        in (plan.notes)
    )


def test_unknown_original_matches_nothing_and_the_rest_applies(
    build: Build, anime: MediaFile
) -> None:
    config = "audio_language_preference: [original, eng]"
    plan = plan_of(build, KEEP_ORIGINAL, anime, NO_METADATA, config)
    assert audio_of(plan) == [("eng", True)]
    assert any("original language unknown: 'original' in" in note for note in plan.notes)


def test_original_from_sonarr_and_a_film_in_another_language(
    build: Build, anime: MediaFile
) -> None:
    sonarr = FileMetadata((TitleMetadata(source="sonarr", original_language="ger"),))
    plan = plan_of(build, KEEP_ORIGINAL, anime, sonarr)
    assert [lang for lang, _ in audio_of(plan)] == ["eng", "ger"]


def test_original_is_accepted_only_where_it_means_something(build: Build) -> None:
    build.phase(
        "audio_filter: {languages: [Original]}", "audio_language_preference: [original, eng]"
    )
    with pytest.raises(PolicyError, match="'original' needs at least one language after it"):
        build.phase("", "audio_language_preference: [original]")
    with pytest.raises(PolicyError, match="unknown language code 'original'"):
        build.phase(
            "conditional:\n  - {name: r, when: {exists: {track_type: audio, language: original}}}"
        )


@pytest.mark.parametrize("metadata", [radarr("jpn"), radarr("fre"), radarr("ger"), NO_METADATA])
def test_original_policies_converge(build: Build, anime: MediaFile, metadata: FileMetadata) -> None:
    config = "audio_language_preference: [original, eng]\nsubtitle_language_preference: [original]"
    with pytest.raises(PolicyError):
        build.phase(KEEP_ORIGINAL, config)
    config = "audio_language_preference: [original, eng]"
    phase, policy = build.phase(KEEP_ORIGINAL, config)
    plan = evaluate(phase, anime, policy.config, metadata)
    again = evaluate(phase, plan.expected_result(), policy.config, metadata)
    assert again.is_noop, again
