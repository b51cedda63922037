"""String ``when:`` expressions: grammar, precedence, quoting, errors, and no code execution."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpo.policy.evaluate import evaluate
from vpo.policy.expression import ExpressionError, parse_expression
from vpo.policy.loader import PolicyError, parse_policy

if TYPE_CHECKING:
    from conftest import Build

EXISTS_AUDIO_JPN = {"exists": {"track_type": "audio", "language": "jpn"}}
NO_SUBTITLE = {"not": {"exists": {"track_type": "subtitle"}}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "audio.language == 'jpn' and not subtitle.exists",
            {"and": [EXISTS_AUDIO_JPN, NO_SUBTITLE]},
        ),
        ('audio.lang == "jpn"', EXISTS_AUDIO_JPN),
        ("audio.language == jpn", EXISTS_AUDIO_JPN),
        (
            "audio.language in ['jpn', eng]",
            {"exists": {"track_type": "audio", "language": ["jpn", "eng"]}},
        ),
        ("audio.channels >= 6", {"exists": {"track_type": "audio", "channels": {"gte": 6}}}),
        ("video.height != 2160", {"exists": {"track_type": "video", "height": {"ne": 2160}}}),
        ("audio.count > 2", {"count": {"track_type": "audio", "gt": 2}}),
        ("subtitle.forced", {"exists": {"track_type": "subtitle", "is_forced": True}}),
        ("audio.default == false", {"exists": {"track_type": "audio", "is_default": False}}),
        ("audio.commentary", {"exists": {"track_type": "audio", "not_commentary": False}}),
        (
            "audio.title == 'Director'",
            {"exists": {"track_type": "audio", "title": {"contains": "Director"}}},
        ),
        (
            "exists(audio, lang == eng, channels >= 6)",
            {"exists": {"track_type": "audio", "language": "eng", "channels": {"gte": 6}}},
        ),
        (
            "count(subtitle, lang in [eng, fre]) == 0",
            {"count": {"track_type": "subtitle", "language": ["eng", "fre"], "eq": 0}},
        ),
        (
            "plugin(radarr, original_language) == 'jpn'",
            {
                "plugin_metadata": {
                    "plugin": "radarr",
                    "field": "original_language",
                    "operator": "eq",
                    "value": "jpn",
                }
            },
        ),
        (
            "container_meta(title)",
            {"container_metadata": {"field": "title", "operator": "exists"}},
        ),
        ("is_dubbed()", {"is_dubbed": True}),
        (
            "multi_language(threshold == 0.1)",
            {"audio_is_multi_language": {"threshold": 0.1}},
        ),
    ],
)
def test_expression_compiles_to_the_mapping_form(text: str, expected: dict[str, Any]) -> None:
    assert parse_expression(text) == expected


A, B, C = (
    {"exists": {"track_type": "audio"}},
    {"exists": {"track_type": "video"}},
    {"exists": {"track_type": "subtitle"}},
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # and binds tighter than or; not tighter than and
        ("audio.exists or video.exists and subtitle.exists", {"or": [A, {"and": [B, C]}]}),
        ("audio.exists and video.exists or subtitle.exists", {"or": [{"and": [A, B]}, C]}),
        ("not audio.exists and video.exists", {"and": [{"not": A}, B]}),
        ("not (audio.exists and video.exists)", {"not": {"and": [A, B]}}),
        ("(audio.exists or video.exists) and subtitle.exists", {"and": [{"or": [A, B]}, C]}),
        ("not not audio.exists", {"not": {"not": A}}),
        ("audio.exists or video.exists or subtitle.exists", {"or": [A, B, C]}),
    ],
)
def test_precedence(text: str, expected: dict[str, Any]) -> None:
    assert parse_expression(text) == expected


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (r"audio.title == 'Director\'s cut'", "Director's cut"),
        ('audio.title == "say \\"hi\\""', 'say "hi"'),
        ("audio.title == 'and or not'", "and or not"),
        ('audio.title == "it\'s"', "it's"),
    ],
)
def test_quoting(text: str, title: str) -> None:
    assert parse_expression(text) == {
        "exists": {"track_type": "audio", "title": {"contains": title}}
    }


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("audoi.exists", "unknown track type 'audoi'", 1),
        ("audio.langauge == 'eng'", "(did you mean 'language'?)", 7),
        ("audio.exists and", "expected a test", 17),
        ("audio.exists && video.exists", "(use 'and', 'or', 'not')", 14),
        ("(audio.exists", "expected ')'", 14),
        ("audio.language == 'eng", "unterminated string", 19),
        ("audio.channels >= 'six'", "channels compares with a whole number", 19),
        ("audio.language < 'eng'", "'<' does not apply to language", 16),
        ("audio.count", "a count needs a comparison", 12),
        ("exsts(audio)", "(did you mean 'exists'?)", 1),
        ("audio.exists video.exists", "unexpected 'video'", 14),
        ("", "empty expression", 1),
    ],
)
def test_errors_name_the_column(text: str, message: str, column: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert message in caught.value.reason
    assert caught.value.column == column
    assert caught.value.line == 1


def test_errors_on_a_later_line_name_that_line() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression("audio.exists and\n  vidoe.exists")
    assert (caught.value.line, caught.value.column) == (2, 3)


def test_depth_is_limited() -> None:
    with pytest.raises(ExpressionError, match="nested deeper"):
        parse_expression("(" * 60 + "audio.exists" + ")" * 60)
    with pytest.raises(ExpressionError, match="nested deeper"):
        parse_expression("not " * 60 + "audio.exists")


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch /tmp/pwned')",
        "audio.__class__",
        "exec('1')",
        "audio.language == open('/etc/passwd')",
        "lambda: 1",
    ],
)
def test_python_is_not_an_expression(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_expression(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_either_parses_to_data_or_is_one_expression_error(text: str) -> None:
    try:
        result = parse_expression(text)
    except ExpressionError as error:
        assert error.column >= 1
        assert error.line >= 1
    else:
        assert isinstance(result, dict)


_ATOMS = st.sampled_from(
    ["audio.exists", "video.exists", "subtitle.exists", "audio.language == 'eng'"]
)


def _render(tree: Any) -> str:
    if isinstance(tree, str):
        return tree
    op, parts = tree
    if op == "not":
        return f"not ({_render(parts)})"
    return "(" + f" {op} ".join(_render(p) for p in parts) + ")"


_TREES = st.recursive(
    _ATOMS,
    lambda inner: st.one_of(
        st.tuples(st.just("not"), inner),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=8,
)


def _mapping(tree: Any) -> Any:
    if isinstance(tree, str):
        return parse_expression(tree)
    op, parts = tree
    if op == "not":
        return {"not": _mapping(parts)}
    return {op: [_mapping(p) for p in parts]}


@settings(max_examples=200, deadline=None)
@given(_TREES)
def test_fully_parenthesised_expressions_give_their_tree(tree: Any) -> None:
    assert parse_expression(_render(tree)) == _mapping(tree)


# --- in a policy file ------------------------------------------------------------------


def _policy(when: str, version: int = 12) -> str:
    return textwrap.dedent(
        f"""\
        schema_version: {version}
        phases:
          - name: p
            conditional:
              - name: r
                when: {when}
                then: {{warn: matched}}
        """
    )


def test_a_policy_error_names_the_file_line_and_column() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(_policy("\"audio.language == 'jpn' and not subtitle.exsts\""), "p.yaml")
    (issue,) = caught.value.issues
    assert issue.line == 6
    # the quote is at column 15, so the expression's 42nd character is at column 57
    assert str(issue) == (
        "p.yaml:6: phases[0].conditional[0].when: unknown field 'exsts'; expected one of "
        "channels, codec, commentary, count, default, exists, forced, height, is_default, "
        "is_forced, lang, language, not_commentary, title, width (did you mean 'exists'?) "
        "(column 57)"
    )


def test_a_block_scalar_error_names_the_line_inside_it() -> None:
    text = _policy("|\n" + " " * 20 + "audio.exists and\n" + " " * 20 + "vidoe.exists")
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    (issue,) = caught.value.issues
    assert issue.line == 8
    assert "unknown track type 'vidoe'" in issue.message


@pytest.mark.parametrize(
    ("expression", "mapping"),
    [
        ("\"audio.language == 'eng'\"", "{exists: {track_type: audio, language: eng}}"),
        ("'not subtitle.exists'", "{not: {exists: {track_type: subtitle}}}"),
        (
            "'audio.count >= 2 or video.height >= 2160'",
            "{or: [{count: {track_type: audio, gte: 2}},"
            " {exists: {track_type: video, height: {gte: 2160}}}]}",
        ),
        (
            "'exists(audio, codec in [truehd, dts], channels > 6)'",
            "{exists: {track_type: audio, codec: [truehd, dts], channels: {gt: 6}}}",
        ),
    ],
)
def test_string_and_mapping_forms_decide_alike(build: Build, expression: str, mapping: str) -> None:
    files = [
        build.media(build.track("video", "h264", height=1080), build.track("audio", "aac")),
        build.media(
            build.track("video", "hevc", height=2160),
            build.track("audio", "truehd", channels=8),
            build.track("audio", "aac", "fre"),
            build.track("subtitle", "subrip"),
        ),
    ]
    as_string = parse_policy(_policy(expression)).phases[0]
    as_mapping = parse_policy(_policy(mapping)).phases[0]
    assert as_string.conditional == as_mapping.conditional
    for media in files:
        assert _warnings(evaluate(as_string, media, parse_policy(_policy(mapping)).config)) == (
            _warnings(evaluate(as_mapping, media, parse_policy(_policy(mapping)).config))
        )


def _warnings(plan: Any) -> tuple[str, ...]:
    return tuple(plan.warnings)
