"""String ``when:`` expressions → the mapping form of a condition.

A small recursive-descent parser of our own grammar (docs/policy.md,
"Expressions"). It never evaluates anything: it only builds the plain
dict/list data that the mapping form of ``when:`` would have been, so both
forms go through the same validation and mean exactly the same.

    expression := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | primary
    primary    := "(" expression ")" | test
    test       := KIND "." "exists"
                | KIND "." "count" CMP INTEGER
                | KIND "." FIELD [CMP value]
                | ("exists" | "count") "(" KIND ("," FIELD CMP value)* ")" [CMP INTEGER]
                | "plugin" "(" NAME "," NAME ")" [META value]
                | NAME ":" NAME [META value]          (radarr:original_language == jpn)
                | "container_meta" "(" NAME ")" [META value]
                | ANALYSIS "(" (NAME "==" value ("," NAME "==" value)*)? ")"
    value      := STRING | NUMBER | "true" | "false" | NAME | "[" value ("," value)* "]"
    CMP        := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in"
    META       := CMP | "contains"                    (no value: the field exists)
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 4096
MAX_DEPTH = 50

KINDS = ("video", "audio", "subtitle")
_KIND_ALIASES = {"subtitles": "subtitle", "sub": "subtitle", "subs": "subtitle"}
_FIELDS = {
    "language": "language",
    "lang": "language",
    "codec": "codec",
    "channels": "channels",
    "width": "width",
    "height": "height",
    "default": "is_default",
    "is_default": "is_default",
    "forced": "is_forced",
    "is_forced": "is_forced",
    "title": "title",
    "commentary": "commentary",
    "not_commentary": "not_commentary",
}
_TEXT_FIELDS = frozenset({"language", "codec"})
_NUMBER_FIELDS = frozenset({"channels", "width", "height"})
_BOOL_FIELDS = frozenset({"is_default", "is_forced", "commentary", "not_commentary"})
_OPS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte", "in": "in"}
_META_OPS = {"==": "eq", "!=": "neq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
ANALYSIS_FUNCTIONS = {
    "multi_language": "audio_is_multi_language",
    "audio_is_multi_language": "audio_is_multi_language",
    "is_original": "is_original",
    "is_dubbed": "is_dubbed",
}
_FUNCTIONS = ("exists", "count", "plugin", "container_meta", *ANALYSIS_FUNCTIONS)
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[().,:\[\]])
    """,
    re.VERBOSE,
)


class ExpressionError(ValueError):
    """A malformed expression; ``offset`` is where in the text (0-based)."""

    def __init__(self, message: str, text: str, offset: int) -> None:
        self.reason = message
        self.text = text
        self.offset = offset
        before = text[:offset]
        self.line = before.count("\n") + 1
        self.column = offset - (before.rfind("\n") + 1) + 1
        super().__init__(f"{message} (line {self.line}, column {self.column} of the expression)")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, name, string, op, punct, end
    text: str
    offset: int
    value: Any = None


def parse_expression(text: str) -> dict[str, Any]:
    """The mapping form of ``text``; raises ExpressionError. Evaluates nothing."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters", text, 0)
    parser = _Parser(text, _tokens(text))
    if parser.peek().kind == "end":
        raise ExpressionError("empty expression", text, 0)
    result = parser.expression()
    token = parser.peek()
    if token.kind != "end":
        raise parser.error(f"unexpected '{token.text}' after a complete condition", token)
    return result


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            if char in "'\"":
                raise ExpressionError("unterminated string", text, position)
            hint = " (use 'and', 'or', 'not')" if char in "&|!=" else ""
            raise ExpressionError(f"unexpected character '{char}'{hint}", text, position)
        kind = match.lastgroup or ""
        word = match.group()
        if kind == "string":
            tokens.append(_Token(kind, word, position, _unquote(word)))
        elif kind == "number":
            number: int | float = float(word) if "." in word else int(word)
            tokens.append(_Token(kind, word, position, number))
        elif kind == "name" and word.lower() in _KEYWORDS:
            tokens.append(_Token("op" if word.lower() == "in" else "name", word.lower(), position))
        elif kind != "space":
            tokens.append(_Token(kind, word, position))
        position = match.end()
    tokens.append(_Token("end", "end of expression", len(text)))
    return tokens


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.position = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------
    def peek(self) -> _Token:
        return self.tokens[self.position]

    def take(self) -> _Token:
        token = self.tokens[self.position]
        if token.kind != "end":
            self.position += 1
        return token

    def at(self, text: str) -> bool:
        token = self.peek()
        return token.kind in ("punct", "op", "name") and token.text == text

    def expect(self, text: str, what: str) -> _Token:
        token = self.peek()
        if not self.at(text):
            raise self.error(f"expected '{text}' {what}, found '{token.text}'", token)
        return self.take()

    def error(self, message: str, token: _Token) -> ExpressionError:
        return ExpressionError(message, self.text, token.offset)

    # -- grammar ---------------------------------------------------------------
    def expression(self) -> dict[str, Any]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nested deeper than {MAX_DEPTH} levels", self.peek())
        parts = [self.conjunction()]
        while self.at("or"):
            self.take()
            parts.append(self.conjunction())
        self.depth -= 1
        return parts[0] if len(parts) == 1 else {"or": parts}

    def conjunction(self) -> dict[str, Any]:
        parts = [self.negation()]
        while self.at("and"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else {"and": parts}

    def negation(self) -> dict[str, Any]:
        if self.at("not"):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error(f"nested deeper than {MAX_DEPTH} levels", self.peek())
            inner = self.negation()
            self.depth -= 1
            return {"not": inner}
        return self.primary()

    def primary(self) -> dict[str, Any]:
        token = self.peek()
        if self.at("("):
            self.take()
            inner = self.expression()
            self.expect(")", "to close the '('")
            return inner
        if token.kind != "name" or token.text in _KEYWORDS:
            raise self.error(
                f"expected a test such as audio.language == 'eng', found '{token.text}'", token
            )
        self.take()
        if self.at("("):
            return self.function(token)
        if self.at(":"):
            self.take()
            field = self.name_argument("metadata field after ':'")
            return {
                "plugin_metadata": {
                    "plugin": token.text,
                    "field": field,
                    **self.meta_test(allow_in=True),
                }
            }
        if self.at("."):
            self.take()
            return self.dotted(self.kind_of(token))
        raise self.error(self.unknown_name(token.text), token)

    def unknown_name(self, word: str) -> str:
        candidates = (*KINDS, *_FUNCTIONS)
        hint = _closest(word, candidates)
        message = (
            f"unknown name '{word}'; a test starts with video., audio., subtitle. or a function"
        )
        return message + (f" (did you mean '{hint}'?)" if hint else "")

    def kind_of(self, token: _Token) -> str:
        word = token.text.lower()
        word = _KIND_ALIASES.get(word, word)
        if word not in KINDS:
            hint = _closest(word, KINDS)
            raise self.error(
                f"unknown track type '{token.text}'; expected one of {', '.join(KINDS)}"
                + (f" (did you mean '{hint}'?)" if hint else ""),
                token,
            )
        return word

    def dotted(self, kind: str) -> dict[str, Any]:
        token = self.peek()
        if token.kind != "name":
            raise self.error(f"expected a field name after '{kind}.', found '{token.text}'", token)
        self.take()
        if token.text == "exists":
            return {"exists": {"track_type": kind}}
        if token.text == "count":
            return {"count": {"track_type": kind, **self.count_bound()}}
        field = self.field_of(token)
        if field in _BOOL_FIELDS and self.peek().kind != "op":
            return {"exists": {"track_type": kind, **_bool_test(field, True)}}
        return {"exists": {"track_type": kind, **self.field_test(field, token)}}

    def field_of(self, token: _Token) -> str:
        field = _FIELDS.get(token.text.lower())
        if field is None:
            names = sorted({*_FIELDS, "exists", "count"})
            hint = _closest(token.text, names)
            raise self.error(
                f"unknown field '{token.text}'; expected one of {', '.join(names)}"
                + (f" (did you mean '{hint}'?)" if hint else ""),
                token,
            )
        return field

    def field_test(self, field: str, name: _Token) -> dict[str, Any]:
        op_token = self.peek()
        if op_token.kind != "op":
            raise self.error(
                f"expected a comparison (==, !=, <, <=, >, >=, in) after '{name.text}',"
                f" found '{op_token.text}'",
                op_token,
            )
        op = _OPS[self.take().text]
        value_token = self.peek()
        value = self.value()
        if field in _TEXT_FIELDS:
            if op == "eq":
                return {field: _text(value)}
            if op == "in":
                return {field: [_text(v) for v in _as_list(value)]}
            raise self.error(
                f"'{op_token.text}' does not apply to {field}; use == or in"
                " (and 'not' around the test for the opposite)",
                op_token,
            )
        if field in _NUMBER_FIELDS:
            if op == "in" or isinstance(value, (bool, list)) or not isinstance(value, int):
                raise self.error(f"{field} compares with a whole number", value_token)
            return {field: {op: value}}
        if field in _BOOL_FIELDS:
            if op not in ("eq", "ne") or not isinstance(value, bool):
                raise self.error(f"{field} compares with == true or == false", value_token)
            return _bool_test(field, value if op == "eq" else not value)
        # title: == is a case-insensitive substring test, as the mapping form's contains
        if op != "eq" or not isinstance(value, str):
            raise self.error("title compares with == 'text' (a substring)", op_token)
        return {"title": {"contains": value}}

    def count_bound(self) -> dict[str, int]:
        op_token = self.peek()
        if op_token.kind != "op" or op_token.text == "in":
            raise self.error(
                f"a count needs a comparison, like count >= 2; found '{op_token.text}'", op_token
            )
        self.take()
        value_token = self.peek()
        value = self.value()
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error("a count compares with a whole number", value_token)
        return {_OPS[op_token.text]: value}

    def value(self) -> Any:
        token = self.peek()
        if self.at("["):
            self.take()
            items = [self.value()]
            while self.at(","):
                self.take()
                items.append(self.value())
            self.expect("]", "to close the list")
            return items
        if token.kind in ("string", "number"):
            self.take()
            return token.value
        if token.kind == "name" and token.text in ("true", "false"):
            self.take()
            return token.text == "true"
        if token.kind == "name" and token.text not in _KEYWORDS:
            self.take()
            return token.text
        raise self.error(f"expected a value, found '{token.text}'", token)

    # -- function forms ----------------------------------------------------------
    def function(self, name: _Token) -> dict[str, Any]:
        word = name.text.lower()
        self.take()  # "("
        if word in ("exists", "count"):
            kind_token = self.peek()
            if kind_token.kind != "name":
                raise self.error(f"{word}() needs a track type first", kind_token)
            self.take()
            test: dict[str, Any] = {"track_type": self.kind_of(kind_token)}
            while self.at(","):
                self.take()
                field_token = self.peek()
                if field_token.kind != "name":
                    raise self.error("expected a field name", field_token)
                self.take()
                test.update(self.field_test(self.field_of(field_token), field_token))
            self.expect(")", f"to close {word}(")
            if word == "count":
                return {"count": {**test, **self.count_bound()}}
            return {"exists": test}
        if word == "plugin":
            plugin = self.name_argument("plugin name")
            self.expect(",", "between plugin name and field")
            field = self.name_argument("field name")
            self.expect(")", "to close plugin(")
            return {
                "plugin_metadata": {
                    "plugin": plugin,
                    "field": field,
                    **self.meta_test(allow_in=True),
                }
            }
        if word == "container_meta":
            field = self.name_argument("tag name")
            self.expect(")", "to close container_meta(")
            return {"container_metadata": {"field": field, **self.meta_test()}}
        if word in ANALYSIS_FUNCTIONS:
            arguments: dict[str, Any] = {}
            while not self.at(")"):
                if arguments:
                    self.expect(",", "between arguments")
                key = self.name_argument("argument name")
                self.expect("==", f"after '{key}'")
                arguments[key] = self.value()
            self.take()
            return {ANALYSIS_FUNCTIONS[word]: arguments or True}
        raise self.error(self.unknown_name(name.text), name)

    def name_argument(self, what: str) -> str:
        token = self.peek()
        if token.kind not in ("name", "string") or token.text in _KEYWORDS:
            raise self.error(f"expected a {what}, found '{token.text}'", token)
        self.take()
        return str(token.value) if token.kind == "string" else token.text

    def meta_test(self, *, allow_in: bool = False) -> dict[str, Any]:
        token = self.peek()
        if token.kind == "name" and token.text.lower() == "contains":
            self.take()
            return {"operator": "contains", "value": self.value()}
        if token.kind != "op":
            return {"operator": "exists"}
        if token.text == "in" and allow_in:
            self.take()
            return {"operator": "in", "value": _as_list(self.value())}
        if token.text not in _META_OPS:
            raise self.error(f"'{token.text}' does not apply to metadata", token)
        self.take()
        return {"operator": _META_OPS[token.text], "value": self.value()}


def _bool_test(field: str, value: bool) -> dict[str, Any]:
    if field == "commentary":
        return {"not_commentary": not value}
    return {field: value}


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _closest(word: str, candidates: tuple[str, ...] | list[str]) -> str | None:
    matches = difflib.get_close_matches(word.lower(), list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
