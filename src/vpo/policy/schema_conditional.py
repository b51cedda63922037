"""Schema of ``conditional`` rules: conditions over tracks and the actions they trigger."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from vpo.policy.types import (
    CodecList,
    LanguageCode,
    LanguageList,
    PolicyModel,
    Regex,
    as_tuple,
)

TrackKind = Literal["video", "audio", "subtitle"]
FilterTarget = Literal["audio", "subtitle", "attachment"]


def _number_as_eq(value: Any) -> Any:
    """``channels: 6`` means ``channels: {eq: 6}``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {"eq": value}
    return value


class Comparison(PolicyModel):
    """A numeric test; every bound given must hold."""

    eq: int | None = None
    ne: int | None = None
    lt: int | None = None
    lte: int | None = None
    gt: int | None = None
    gte: int | None = None

    @model_validator(mode="after")
    def _needs_a_bound(self) -> Comparison:
        if all(getattr(self, name) is None for name in ("eq", "ne", "lt", "lte", "gt", "gte")):
            raise ValueError("give at least one of eq, ne, lt, lte, gt, gte")
        return self

    def holds(self, number: int | None) -> bool:
        if number is None:
            return False
        checks = (
            self.eq is None or number == self.eq,
            self.ne is None or number != self.ne,
            self.lt is None or number < self.lt,
            self.lte is None or number <= self.lte,
            self.gt is None or number > self.gt,
            self.gte is None or number >= self.gte,
        )
        return all(checks)


NumberTest = Annotated[Comparison, BeforeValidator(_number_as_eq)]


class TitleMatch(PolicyModel):
    """Title test: a case-insensitive substring or a case-insensitive regex."""

    contains: str | None = None
    regex: Regex | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TitleMatch:
        if (self.contains is None) == (self.regex is None):
            raise ValueError("give exactly one of contains, regex")
        return self


class TrackFilter(PolicyModel):
    """Selects tracks of one type; every field given must match."""

    track_type: TrackKind
    language: LanguageList | None = None
    codec: CodecList | None = None
    is_default: bool | None = None
    is_forced: bool | None = None
    channels: NumberTest | None = None
    width: NumberTest | None = None
    height: NumberTest | None = None
    title: TitleMatch | None = None
    not_commentary: bool | None = None


class CountCondition(TrackFilter):
    """True when the number of matching tracks passes the comparison."""

    eq: int | None = None
    ne: int | None = None
    lt: int | None = None
    lte: int | None = None
    gt: int | None = None
    gte: int | None = None

    @model_validator(mode="after")
    def _needs_a_bound(self) -> CountCondition:
        self.comparison()
        return self

    def comparison(self) -> Comparison:
        return Comparison(
            eq=self.eq, ne=self.ne, lt=self.lt, lte=self.lte, gt=self.gt, gte=self.gte
        )


class Condition(PolicyModel):
    """Exactly one of ``exists``, ``count``, ``and``, ``or``, ``not``."""

    exists: TrackFilter | None = None
    count: CountCondition | None = None
    all_of: Annotated[tuple[Condition, ...] | None, Field(alias="and")] = None
    any_of: Annotated[tuple[Condition, ...] | None, Field(alias="or")] = None
    negated: Annotated[Condition | None, Field(alias="not")] = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [
            name
            for name, value in (
                ("exists", self.exists),
                ("count", self.count),
                ("and", self.all_of),
                ("or", self.any_of),
                ("not", self.negated),
            )
            if value is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "a condition needs exactly one of exists, count, and, or, not"
                + (f" (got {', '.join(given)})" if given else "")
            )
        for group in (self.all_of, self.any_of):
            if group is not None and not group:
                raise ValueError("'and' / 'or' need at least one condition")
        return self


class SetForced(TrackFilter):
    value: bool = True


class SetLanguage(TrackFilter):
    to: LanguageCode


class SetTitle(TrackFilter):
    to: str | None


class Action(PolicyModel):
    """One action; exactly one key per list item, e.g. ``- warn: "no English audio"``."""

    set_default: TrackFilter | None = None
    set_forced: SetForced | None = None
    set_language: SetLanguage | None = None
    set_title: SetTitle | None = None
    skip_track_filter: Annotated[tuple[FilterTarget, ...] | None, BeforeValidator(as_tuple)] = None
    warn: str | None = None
    fail: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            names = ", ".join(type(self).model_fields)
            raise ValueError(f"each action needs exactly one of {names}")
        return self


ActionList = Annotated[tuple[Action, ...], BeforeValidator(as_tuple)]


class ConditionalRule(PolicyModel):
    """``when`` holds → ``then`` actions, else ``else`` actions; first matching rule wins."""

    name: str
    when: Condition
    then: ActionList = ()
    otherwise: Annotated[ActionList, Field(alias="else")] = ()
