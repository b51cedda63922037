"""Schema of ``conditional`` rules: conditions over tracks and the actions they trigger."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from vpo.policy.metadata_fields import LANGUAGE_FIELDS, check_field, check_source, language_code
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


def _lower_name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip().lower()


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


MetadataOperator = Literal["eq", "neq", "contains", "lt", "lte", "gt", "gte", "exists"]
MetadataValue = str | int | float | bool | None


class MetadataTest(PolicyModel):
    """A container tag test: ``{field: title, value: "x", operator: eq}``."""

    field: Annotated[str, AfterValidator(_lower_name)]
    value: MetadataValue = None
    operator: MetadataOperator = "eq"

    @model_validator(mode="after")
    def _value_unless_exists(self) -> MetadataTest:
        if self.operator != "exists" and self.value is None:
            raise ValueError(f"operator '{self.operator}' needs a value (or operator: exists)")
        return self


PluginOperator = Literal["eq", "neq", "contains", "in", "lt", "lte", "gt", "gte", "exists"]
PluginValue = str | int | float | bool | tuple[str | int | float | bool, ...] | None


class PluginMetadataTest(PolicyModel):
    """A test on what Sonarr/Radarr know about the file's title:
    ``{plugin: radarr, field: original_language, value: jpn, operator: eq}``.

    The original VPO's spelling ``{plugin_metadata: "radarr:original_language", …}``
    and its field names (``external_title``, ``season_number``, …) are accepted.
    Language values are normalised (``ja``, ``Japanese`` → ``jpn``).
    """

    plugin: Annotated[str, AfterValidator(check_source)]
    field: Annotated[str, AfterValidator(check_field)]
    value: PluginValue = None
    operator: PluginOperator = "eq"

    @model_validator(mode="before")
    @classmethod
    def _reference_form(cls, data: Any) -> Any:
        if isinstance(data, dict) and "plugin_metadata" in data:
            data = dict(data)
            reference = data.pop("plugin_metadata")
            if not isinstance(reference, str) or reference.count(":") != 1:
                raise ValueError("plugin_metadata is written 'plugin:field', e.g. 'radarr:tags'")
            data["plugin"], data["field"] = reference.split(":")
        return data

    @model_validator(mode="after")
    def _value_fits_operator(self) -> PluginMetadataTest:
        value = self.value
        if self.operator == "exists":
            return self
        if value is None:
            raise ValueError(f"operator '{self.operator}' needs a value (or operator: exists)")
        if isinstance(value, tuple) != (self.operator == "in"):
            raise ValueError(
                "operator 'in' takes a list of values"
                if self.operator == "in"
                else f"operator '{self.operator}' takes one value, not a list"
            )
        if self.field in LANGUAGE_FIELDS and self.operator in ("eq", "neq", "in", "contains"):
            items = value if isinstance(value, tuple) else (value,)
            codes = tuple(language_code(str(item)) for item in items)
            object.__setattr__(self, "value", codes if isinstance(value, tuple) else codes[0])
        return self


class AnalysisTest(PolicyModel):
    """Accepted for compatibility; needs audio analysis, which vpo does not provide."""

    track_index: int | None = None
    threshold: float | None = None
    primary_language: str | None = None
    value: bool | None = None
    min_confidence: float | None = None
    language: str | None = None
    confidence: float | None = None
    lang: str | None = None


def _analysis_shorthand(value: Any) -> Any:
    """``is_original: true`` is the short form of ``is_original: {value: true}``."""
    if isinstance(value, bool):
        return {"value": value}
    return value


AnalysisCondition = Annotated[AnalysisTest, BeforeValidator(_analysis_shorthand)]
ANALYSIS_CONDITIONS = ("audio_is_multi_language", "is_original", "is_dubbed")


class Condition(PolicyModel):
    """Exactly one test or boolean operator (see docs/policy.md, "Conditions")."""

    exists: TrackFilter | None = None
    count: CountCondition | None = None
    plugin_metadata: PluginMetadataTest | None = None
    container_metadata: MetadataTest | None = None
    audio_is_multi_language: AnalysisCondition | None = None
    is_original: AnalysisCondition | None = None
    is_dubbed: AnalysisCondition | None = None
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
                ("plugin_metadata", self.plugin_metadata),
                ("container_metadata", self.container_metadata),
                ("audio_is_multi_language", self.audio_is_multi_language),
                ("is_original", self.is_original),
                ("is_dubbed", self.is_dubbed),
                ("and", self.all_of),
                ("or", self.any_of),
                ("not", self.negated),
            )
            if value is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "a condition needs exactly one of exists, count, plugin_metadata, "
                "container_metadata, audio_is_multi_language, is_original, is_dubbed, "
                "and, or, not" + (f" (got {', '.join(given)})" if given else "")
            )
        for group in (self.all_of, self.any_of):
            if group is not None and not group:
                raise ValueError("'and' / 'or' need at least one condition")
        return self

    def analysis_needs(self) -> tuple[str, ...]:
        """The audio-analysis tests this condition uses (empty: vpo can evaluate it)."""
        own = tuple(name for name in ANALYSIS_CONDITIONS if getattr(self, name) is not None)
        nested = [*(self.all_of or ()), *(self.any_of or ())]
        if self.negated is not None:
            nested.append(self.negated)
        return own + tuple(need for child in nested for need in child.analysis_needs())


class SetDefault(TrackFilter):
    """``value: true`` (default) makes the first match the default; false clears matches."""

    value: bool = True


class SetForced(TrackFilter):
    value: bool = True


class PluginReference(PolicyModel):
    """Where ``from_plugin_metadata`` takes its value: ``{plugin: radarr, field: title}``."""

    plugin: Annotated[str, AfterValidator(check_source)]
    field: Annotated[str, AfterValidator(check_field)]


class SetLanguage(TrackFilter):
    """``to`` (schema 12/13 ``new_language``) or a plugin's value, never both."""

    to: LanguageCode | None = None
    from_plugin_metadata: PluginReference | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SetLanguage:
        if (self.to is None) == (self.from_plugin_metadata is None):
            raise ValueError("set_language needs exactly one of to, from_plugin_metadata")
        return self


_TAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def _tag_name(value: str) -> str:
    if not _TAG_NAME.match(value.strip()):
        raise ValueError(
            "a tag name starts with a letter, then letters, digits or '_' (at most 64)"
        )
    return value.strip().lower()


class SetContainerMetadata(PolicyModel):
    """Set (or with ``value: ""`` clear) one container tag, e.g. the title."""

    field: Annotated[str, AfterValidator(_tag_name)]
    value: str | None = None
    from_plugin_metadata: PluginReference | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SetContainerMetadata:
        if (self.value is None) == (self.from_plugin_metadata is None):
            raise ValueError(
                "set_container_metadata needs exactly one of value, from_plugin_metadata"
            )
        return self


class SetTitle(TrackFilter):
    to: str | None


class Action(PolicyModel):
    """One action; exactly one key per list item, e.g. ``- warn: "no English audio"``."""

    set_default: SetDefault | None = None
    set_forced: SetForced | None = None
    set_language: SetLanguage | None = None
    set_title: SetTitle | None = None
    skip_track_filter: Annotated[tuple[FilterTarget, ...] | None, BeforeValidator(as_tuple)] = None
    skip_video_transcode: Literal[True] | None = None
    skip_audio_transcode: Literal[True] | None = None
    set_container_metadata: SetContainerMetadata | None = None
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
    """``when`` holds → ``then`` actions, else ``else`` actions (``rules_match`` decides
    whether the first deciding rule ends the list)."""

    name: str
    when: Condition
    then: ActionList = ()
    otherwise: Annotated[ActionList, Field(alias="else")] = ()
