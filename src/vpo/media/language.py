"""Language codes: everything is normalised to ISO 639-2/B (``fre``, ``ger``, ``chi``).

Files and users spell languages many ways (``fr``, ``fra``, ``fre``, ``fr-CA``);
comparing them only works once they are reduced to one form. langcodes knows
the registries, so nothing here keeps tables of its own.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from types import ModuleType

UNDETERMINED = "und"


class UnknownLanguageError(ValueError):
    """A code that no ISO 639 / BCP 47 registry knows."""

    def __init__(self, code: str, suggestion: str | None = None) -> None:
        self.code = code
        self.suggestion = suggestion
        hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
        shown = code if len(code) <= _SHOWN_LENGTH else f"{code[:_SHOWN_LENGTH]}…"
        super().__init__(f"unknown language code '{shown}'{hint}")


# Longer than any language tag in use (RFC 5646 asks parsers to take 35
# characters). langcodes recurses once per subtag and its lookups are slow on
# long text: a policy or file with a 200,000-character "language" took 30 s or
# ended in RecursionError, so longer text is unknown without asking langcodes.
MAX_TAG_LENGTH = 64
_SHOWN_LENGTH = 40  # of an unknown code in a message


@lru_cache(maxsize=4096)
def normalize_language(code: str | None) -> str:
    """Return the ISO 639-2/B code for any ISO 639-1/2/3 code or IETF tag.

    Empty or missing codes are ``und``; an unknown code raises UnknownLanguageError.
    """
    if code is None:
        return UNDETERMINED
    if len(code) > MAX_TAG_LENGTH:
        raise UnknownLanguageError(code.strip())
    text = code.strip()
    if not text or text.lower() == UNDETERMINED:
        return UNDETERMINED
    if text in _COMMON_B_CODES:
        return text  # already ISO 639-2/B: no need to load langcodes' registry (start-up)
    if text in COMMON_ALPHA2:
        return COMMON_ALPHA2[text]  # "en": what mkvmerge writes as a track's IETF tag
    langcodes = _langcodes()
    try:
        language = langcodes.Language.get(text)
        if not language.is_valid() or language.language is None:
            raise UnknownLanguageError(text, suggest_language(text))
        return str(language.to_alpha3(variant="B"))
    except (LookupError, ValueError) as error:
        if isinstance(error, UnknownLanguageError):
            raise
        raise UnknownLanguageError(text, suggest_language(text)) from error


def normalize_language_lenient(code: str | None) -> str:
    """Like normalize_language, but an unknown code in a file becomes ``und``.

    Files in the wild carry garbage; a policy must not crash on them.
    """
    try:
        return normalize_language(code)
    except UnknownLanguageError:
        return UNDETERMINED


def is_known_language(code: str) -> bool:
    try:
        normalize_language(code)
    except UnknownLanguageError:
        return False
    return True


_COMMON_CODES = (  # noqa: SIM905 - the codes read best as one string
    "eng fre ger spa ita jpn chi kor rus por dut swe nor dan fin pol cze hun gre tur heb ara "
    "hin tha vie ind may fil ukr rum bul hrv srp slo slv est lav lit ice gle wel baq cat glg "
    "per urd ben tam tel mar guj kan mal pan und mul zxx"
).split()


# Codes that are their own ISO 639-2/B form (a unit test checks each against langcodes).
_COMMON_B_CODES = frozenset(_COMMON_CODES) - {"und", "mul", "zxx"}

# ISO 639-1 codes of the common languages → their ISO 639-2/B form. Every Matroska
# file mkvmerge writes carries an IETF tag such as ``en``; importing langcodes for
# it cost more than a third of ``vpo process --dry-run``'s start-up (its registry
# compiles a regular expression of 70 ms). A unit test checks each against langcodes.
COMMON_ALPHA2: dict[str, str] = {
    alpha2: b_code
    for alpha2, _, b_code in (
        pair.partition(":")
        for pair in (  # noqa: SIM905 - the pairs read best as one string
            "en:eng fr:fre de:ger es:spa it:ita ja:jpn zh:chi ko:kor ru:rus pt:por nl:dut sv:swe "
            "no:nor da:dan fi:fin pl:pol cs:cze hu:hun el:gre tr:tur he:heb ar:ara hi:hin th:tha "
            "vi:vie id:ind ms:may uk:ukr ro:rum bg:bul hr:hrv sr:srp sk:slo sl:slv et:est lv:lav "
            "lt:lit is:ice ga:gle cy:wel eu:baq ca:cat gl:glg fa:per ur:urd bn:ben ta:tam te:tel "
            "mr:mar gu:guj kn:kan ml:mal pa:pan"
        ).split()
    )
}


def _langcodes() -> ModuleType:
    """langcodes, imported on first use: its registry costs a noticeable part of start-up."""
    import langcodes

    return langcodes


def suggest_language(code: str) -> str | None:
    """A close, valid ISO 639-2 code for a typo like ``jap`` or ``englsh``."""
    langcodes = _langcodes()
    lowered = code.strip().lower()
    if not lowered or not lowered.isascii() or not lowered.isprintable():
        return None  # garbage from a file: no suggestion (and langcodes' trie crashes on NUL)
    try:
        found = langcodes.find(lowered)  # a language name such as "english"
        return str(found.to_alpha3(variant="B"))
    except (LookupError, ValueError):
        pass
    matches = difflib.get_close_matches(lowered, _COMMON_CODES, n=1, cutoff=0.6)
    return matches[0] if matches else None


def language_name(code: str) -> str:
    """English display name for a normalised code (``fre`` → ``French``)."""
    if code == UNDETERMINED:
        return "Undetermined"
    try:
        return str(_langcodes().Language.get(code).display_name())
    except (LookupError, ValueError):
        return code
