"""evaluate(phase, media, config) → Plan: everything vpo decides, as a pure function.

Operations run in a fixed order whatever the YAML order (schema.OPERATION_ORDER):
conditions are tested on the file as it enters the phase; per-type clean-ups,
filters, container (checked against the tracks the filters keep), track_order,
default_flags and the conditional actions then shape one working list of output
tracks, which becomes the Plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from vpo.errors import FileError
from vpo.media.containers import capabilities
from vpo.media.metadata import NO_METADATA, FileMetadata
from vpo.media.model import MediaFile, TrackType
from vpo.plan import Plan, PlannedTrack, identity_plan
from vpo.policy import filters, flags
from vpo.policy.classify import classify, language_rank, main_audio_language, preference_for
from vpo.policy.conditions import condition_holds, track_matches
from vpo.policy.containers import constrain_to_container, keep_to_storable, plan_container
from vpo.policy.metadata_fields import metadata_language
from vpo.policy.plugin_metadata import plugin_value, resolve_original
from vpo.policy.schema import Phase, PolicyConfig, TrackActions, TrackCategory
from vpo.policy.schema_conditional import (
    Action,
    PluginReference,
    SetContainerMetadata,
    TrackFilter,
)
from vpo.policy.synthesis import plan_synthesis
from vpo.policy.timestamps import plan_file_time
from vpo.policy.transcode import plan_transcode
from vpo.policy.work import Work


class EvaluationError(FileError):
    """The policy cannot be satisfied for this file (a per-file error)."""

    def __init__(self, media: MediaFile, phase: str, cause: str) -> None:
        self.path = media.path
        self.phase = phase
        self.cause = cause
        super().__init__(f"{media.path}: phase '{phase}': {cause}")

    def without_path(self) -> str:
        return self.cause


def evaluate(
    phase: Phase, media: MediaFile, config: PolicyConfig, metadata: FileMetadata = NO_METADATA
) -> Plan:
    """The desired end state of ``media`` after ``phase``; raises EvaluationError.

    ``metadata``: what Sonarr/Radarr know about the file's title (conditions on
    ``radarr:original_language``, ``original`` in language lists, file_timestamp);
    NO_METADATA when nothing is known.
    """
    phase, config, original = resolve_original(phase, config, metadata)
    start = identity_plan(media, phase.name)
    work = Work(
        media=media, tracks=list(start.tracks), container=media.container, metadata=metadata
    )
    if original is not None:
        work.notes.append(original)

    actions, skipped_filters = _chosen_actions(phase, work, config)
    for track_type, cleanup in (
        (TrackType.VIDEO, phase.video_actions),
        (TrackType.AUDIO, phase.audio_actions),
        (TrackType.SUBTITLE, phase.subtitle_actions),
    ):
        if cleanup is not None:
            _clean_up(work, track_type, cleanup)
    if phase.audio_filter is not None and "audio" not in skipped_filters:
        failure = filters.filter_audio(work, phase.audio_filter, config)
        if failure:
            raise EvaluationError(media, phase.name, failure)
    if phase.subtitle_filter is not None and "subtitle" not in skipped_filters:
        filters.filter_subtitles(work, phase.subtitle_filter, config)
    if phase.attachment_filter is not None and "attachment" not in skipped_filters:
        filters.filter_attachments(work, phase.attachment_filter)
    if phase.container is not None:
        # Checked on the tracks the filters keep: a TrueHD track that the
        # audio_filter drops must not block MP4 (and would on the next run).
        failure = plan_container(work, phase.container)
        if failure:
            raise EvaluationError(media, phase.name, failure)
    if phase.track_order is not None:
        _order_tracks(work, phase.track_order, config)
    if phase.default_flags is not None:
        flags.apply_default_flags(work, phase.default_flags, config)
    for action in actions:
        _apply_action(work, action, config)
    _plan_encodes(work, phase, config, actions)
    keep_to_storable(work)  # nothing the container cannot hold: AVI has no default flags
    if phase.file_timestamp is not None:
        work.file_time, note = plan_file_time(phase.file_timestamp, work.metadata)
        work.notes.append(note)
    _constrain_tags(work)
    if not _plan_of(work, phase).is_noop:
        # Only a file that is written anyway takes the container's own rules;
        # an untouched MP4 is left as it is.
        constrain_to_container(work)
    return _plan_of(work, phase)


def _plan_of(work: Work, phase: Phase) -> Plan:
    return Plan(
        source=work.media,
        phase=phase.name,
        container=work.container,
        tracks=tuple(work.tracks),
        removed=tuple(sorted(work.removed, key=lambda r: r.source_index)),
        removed_attachments=tuple(work.removed_attachments),
        warnings=tuple(work.warnings),
        notes=tuple(work.notes),
        title=work.title,
        file_time=work.file_time,
        tags=tuple(sorted(work.tags.items())),
    )


def _chosen_actions(
    phase: Phase, work: Work, config: PolicyConfig
) -> tuple[tuple[Action, ...], frozenset[str]]:
    """Test the rules on the file as it enters the phase.

    A rule decides when its ``when`` holds (→ ``then``) or, failing that, when it
    has an ``else``. With ``rules_match: first`` (schema 12's only behaviour) the
    first deciding rule ends the list; with ``all`` every deciding rule's actions
    run, in rule order. A rule that needs audio analysis is skipped, with a
    warning. ``skip_track_filter`` must be known before the filters run, hence
    the early test; other actions run at the conditional step.
    """
    if not phase.conditional:
        return (), frozenset()
    dimensions = [work.dimensions(t) for t in work.tracks]
    chosen: list[Action] = []
    for rule in phase.conditional:
        needs = rule.when.analysis_needs()
        if needs:
            work.warnings.append(
                f"rule '{rule.name}' skipped: {', '.join(needs)} needs audio analysis, "
                "which this version of vpo does not provide"
            )
            continue
        holds = condition_holds(
            rule.when, work.tracks, dimensions, config, work.media, work.metadata
        )
        if holds:
            actions, branch = rule.then, "then"
        elif rule.otherwise:
            actions, branch = rule.otherwise, "else"
        else:
            continue
        work.notes.append(f"conditional: rule '{rule.name}' chose '{branch}'")
        for action in actions:
            if action.fail is not None:
                message = _placeholders(action.fail, work)
                raise EvaluationError(work.media, phase.name, f"rule '{rule.name}': {message}")
        chosen.extend(actions)
        if phase.rules_match == "first":
            break
    skipped = frozenset(target for action in chosen for target in (action.skip_track_filter or ()))
    return tuple(chosen), skipped


def _placeholders(text: str, work: Work) -> str:
    """``{filename}`` in warn/fail texts is the file's name, as in the original VPO."""
    return text.replace("{filename}", work.media.path.name)


def _clean_up(work: Work, track_type: TrackType, cleanup: TrackActions) -> None:
    for position, track in enumerate(work.tracks):
        if track.type is not track_type:
            continue
        new_flags = track.flags
        if cleanup.clear_all_default:
            new_flags = replace(new_flags, default=False)
        if cleanup.clear_all_forced:
            new_flags = replace(new_flags, forced=False)
        title = None if cleanup.clear_all_titles else track.title
        work.tracks[position] = replace(track, flags=new_flags, title=title)


def _order_tracks(work: Work, order: tuple[TrackCategory, ...], config: PolicyConfig) -> None:
    """Sort by listed category, then language preference, then current position.

    Tracks whose category is not listed follow the listed ones, in current order.
    """
    main = main_audio_language(work.tracks, config)
    listed = {category: rank for rank, category in enumerate(order)}

    def key(item: tuple[int, PlannedTrack]) -> tuple[int, int, int]:
        position, track = item
        category = classify(track, config, main)
        category_rank = listed.get(category, len(listed))
        if category_rank == len(listed):
            return (category_rank, 0, position)
        preference = preference_for(track.type, config)
        rank = 0 if track.type is TrackType.VIDEO else language_rank(track.language, preference)
        return (category_rank, rank, position)

    ordered = [track for _, track in sorted(enumerate(work.tracks), key=key)]
    if ordered != work.tracks:
        work.notes.append("track_order: tracks reordered")
    work.tracks[:] = ordered


def _apply_action(work: Work, action: Action, config: PolicyConfig) -> None:
    if action.warn is not None:
        work.warnings.append(_placeholders(action.warn, work))
    elif action.set_default is not None:
        wanted = action.set_default
        matching = [t for t in work.tracks if track_matches(t, wanted, config, work.dimensions(t))]
        if not wanted.value:
            _update_matching(
                work, wanted, config, lambda t: replace(t, flags=replace(t.flags, default=False))
            )
        elif matching:
            chosen = matching[0]
            kind = TrackType(wanted.track_type)
            for position, track in enumerate(work.tracks):
                if track.type is kind:
                    is_chosen = track is chosen
                    work.tracks[position] = replace(
                        track, flags=replace(track.flags, default=is_chosen)
                    )
    elif action.set_forced is not None:
        forced = action.set_forced
        _update_matching(
            work, forced, config, lambda t: replace(t, flags=replace(t.flags, forced=forced.value))
        )
    elif action.set_language is not None:
        language = action.set_language.to
        source = action.set_language.from_plugin_metadata
        if source is not None:
            language = _plugin_language(work, source)
            if language is None:
                return
        assert language is not None
        code = language
        _update_matching(work, action.set_language, config, lambda t: replace(t, language=code))
    elif action.set_container_metadata is not None:
        _set_container_metadata(work, action.set_container_metadata)
    elif action.set_title is not None:
        title = action.set_title.to
        _update_matching(work, action.set_title, config, lambda t: replace(t, title=title))


def _set_container_metadata(work: Work, change: SetContainerMetadata) -> None:
    """A container tag is set (``value: ""`` removes it); ``title`` is the container
    (segment) title. Whether the output container can hold the tag is decided
    when the plan is made (_constrain_tags)."""
    value = change.value
    source = change.from_plugin_metadata
    if source is not None:
        found = plugin_value(work.metadata, source.plugin, source.field)
        if found is None:
            work.notes.append(
                f"set_container_metadata: {source.plugin}:{source.field} unknown for this file; "
                "unchanged"
            )
            return
        value = ", ".join(map(str, found)) if isinstance(found, tuple) else str(found)
    wanted = value or None
    if change.field != "title":
        before = work.media.tag(change.field)
        if wanted != before:
            work.notes.append(f"set_container_metadata: {change.field} {before!r} → {wanted!r}")
        work.tags[change.field] = wanted
        return
    if wanted != work.media.title:
        work.notes.append(f"set_container_metadata: title {work.media.title!r} → {wanted!r}")
    work.title = wanted


def _constrain_tags(work: Work) -> None:
    """Tag changes the output container cannot hold are dropped with a warning
    (containers.py says which it can); setting a tag to the value it has is kept
    (a no-op) so the plan shows it. Removing such a tag while converting into that
    container needs no warning: the conversion does not carry it."""
    caps = capabilities(work.container)
    converting = work.container is not work.media.container
    for name in list(work.tags):
        if not caps.holds_tag(name) and work.tags[name] != work.media.tag(name):
            removal = work.tags.pop(name) is None
            if removal and converting:
                continue
            work.warnings.append(
                f"set_container_metadata: {caps.name} cannot hold the tag '{name}'; not changed"
            )


def _plugin_language(work: Work, source: PluginReference) -> str | None:
    """The language ``set_language: {from_plugin_metadata}`` sets, or None (with a
    note) when the metadata does not know one."""
    found = plugin_value(work.metadata, source.plugin, source.field)
    reference = f"{source.plugin}:{source.field}"
    if found is None:
        work.notes.append(f"set_language: {reference} unknown for this file; unchanged")
        return None
    code = metadata_language(found)
    if code is None:
        work.notes.append(f"set_language: {reference} is not a language ({found!r}); unchanged")
    return code


def _update_matching(
    work: Work,
    wanted: TrackFilter,
    config: PolicyConfig,
    change: Callable[[PlannedTrack], PlannedTrack],
) -> None:
    for position, track in enumerate(work.tracks):
        if track_matches(track, wanted, config, work.dimensions(track)):
            work.tracks[position] = change(track)


def _plan_encodes(
    work: Work, phase: Phase, config: PolicyConfig, actions: tuple[Action, ...] = ()
) -> None:
    """audio_synthesis, then transcode (OPERATION_ORDER): synthesised tracks are
    made from the source tracks, not from their re-encoded versions.

    New tracks take part in the phase's track_order and default_flags, which are
    applied again after they are added: the next run sees them as ordinary tracks
    and would otherwise move them or their flags (no convergence).
    """
    standing_in: list[PlannedTrack] = []
    if phase.audio_synthesis is not None:
        count = len(work.tracks)
        standing_in = plan_synthesis(work, phase.audio_synthesis, config)
        if len(work.tracks) != count:
            if phase.track_order is not None:
                _order_tracks(work, phase.track_order, config)
            if phase.default_flags is not None:
                flags.apply_default_flags(work, phase.default_flags, config)
    transcode = phase.transcode
    if transcode is not None:
        if any(a.skip_video_transcode for a in actions) and transcode.video is not None:
            transcode = transcode.model_copy(update={"video": None})
            work.notes.append("transcode: video not transcoded (skip_video_transcode)")
        if any(a.skip_audio_transcode for a in actions) and transcode.audio is not None:
            transcode = transcode.model_copy(update={"audio": None})
            work.notes.append("transcode: audio not transcoded (skip_audio_transcode)")
        plan_transcode(work, transcode, keep=standing_in)
