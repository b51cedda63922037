"""Language normalisation: every spelling of a language becomes one ISO 639-2/B code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.media import language
from vpo.media.language import (
    UnknownLanguageError,
    language_name,
    normalize_language,
    normalize_language_lenient,
    suggest_language,
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("fre", "fre"),
        ("fra", "fre"),
        ("fr", "fre"),
        ("fr-CA", "fre"),
        ("FR", "fre"),
        ("ger", "ger"),
        ("deu", "ger"),
        ("de", "ger"),
        ("ja", "jpn"),
        ("zh-Hans", "chi"),
        ("zho", "chi"),
        ("iw", "heb"),
        ("no", "nor"),
        ("nob", "nob"),
        ("pt-BR", "por"),
        ("en-US", "eng"),
        ("und", "und"),
        ("", "und"),
        (None, "und"),
        ("qaa", "qaa"),
        ("zxx", "zxx"),
    ],
)
def test_normalises_to_iso_639_2_b(code: str | None, expected: str) -> None:
    assert normalize_language(code) == expected


@pytest.mark.parametrize(
    ("code", "suggestion"),
    [("jap", "jpn"), ("englsh", "eng"), ("english", "eng"), ("French", "fre")],
)
def test_unknown_codes_raise_with_a_suggestion(code: str, suggestion: str) -> None:
    with pytest.raises(UnknownLanguageError) as caught:
        normalize_language(code)
    assert caught.value.suggestion == suggestion
    assert f"did you mean '{suggestion}'?" in str(caught.value)


def test_lenient_form_turns_garbage_from_files_into_und() -> None:
    assert normalize_language_lenient("xx-garbage-!!") == "und"
    assert normalize_language_lenient("\x00𐀀") == "und"


def test_no_suggestion_for_control_characters_or_non_ascii() -> None:
    assert suggest_language("\x00𐀀") is None
    assert suggest_language("日本語") is None


@given(st.text(max_size=12))
def test_lenient_normalisation_never_raises(text: str) -> None:
    result = normalize_language_lenient(text)
    assert len(result) == 3 and result.isascii()


def test_display_names() -> None:
    assert language_name("fre") == "French"
    assert language_name("und") == "Undetermined"


@pytest.mark.parametrize("code", sorted(language._COMMON_B_CODES))
def test_the_start_up_shortcut_agrees_with_langcodes(code: str) -> None:
    """Codes returned without loading langcodes are exactly what langcodes says."""
    import langcodes

    assert str(langcodes.Language.get(code).to_alpha3(variant="B")) == code
    assert language.normalize_language(code) == code


@pytest.mark.parametrize(("alpha2", "b_code"), sorted(language.COMMON_ALPHA2.items()))
def test_the_two_letter_shortcut_agrees_with_langcodes(alpha2: str, b_code: str) -> None:
    """ISO 639-1 codes mapped without loading langcodes map as langcodes maps them."""
    import langcodes

    found = langcodes.Language.get(alpha2)
    assert found.is_valid()
    assert str(found.to_alpha3(variant="B")) == b_code
    assert language.normalize_language(alpha2) == b_code


def test_every_two_letter_shortcut_names_a_common_code() -> None:
    assert set(language.COMMON_ALPHA2.values()) <= language._COMMON_B_CODES
