"""Hostile language codes (from a policy or a file) are unknown at once, in one short line."""

from __future__ import annotations

import langcodes
import pytest

from vpo.media.language import (
    MAX_TAG_LENGTH,
    UnknownLanguageError,
    normalize_language,
    normalize_language_lenient,
)

MANY_SUBTAGS = "en-" + "-".join(["abcdefgh"] * 5_000)  # langcodes recursed once per subtag


def _not_called(*_: object, **__: object) -> None:
    raise AssertionError("langcodes was asked about an overlong code")


@pytest.mark.parametrize("code", [MANY_SUBTAGS, "a" * 200_000], ids=["subtags", "long"])
def test_overlong_codes_are_unknown_without_asking_langcodes(
    code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # langcodes took 30 s on the long one and hit RecursionError on the other.
    monkeypatch.setattr(langcodes.Language, "get", _not_called)
    monkeypatch.setattr(langcodes, "find", _not_called)
    with pytest.raises(UnknownLanguageError) as caught:
        normalize_language(code)
    assert str(caught.value) == f"unknown language code '{code[:40]}…'"
    assert normalize_language_lenient(code) == "und"


def test_tags_up_to_the_limit_still_reach_langcodes() -> None:
    assert normalize_language("en-US") == "eng"
    long_but_valid = "en-US-x-" + "a" * 8 + "-b" * ((MAX_TAG_LENGTH - 16) // 2)
    assert len(long_but_valid) <= MAX_TAG_LENGTH
    assert normalize_language(long_but_valid) == "eng"
