"""The plan: the desired end state of one file after one phase.

A plan is pure data. Dry-run renders it, apply executes it, verify compares a
fresh probe with it. It says *what* the file must look like, never *how*; tool
choice happens in vpo.apply.
"""

from __future__ import annotations

import enum
import shlex
from dataclasses import dataclass, field, replace

from vpo.media.model import Container, MediaFile, Track, TrackFlags, TrackType, container_tags


class PlanKind(str, enum.Enum):
    """How much work a plan needs, cheapest first."""

    NOOP = "noop"
    METADATA = "metadata"  # header-only: flags, language, title
    REMUX = "remux"  # tracks move or drop, attachments drop, container changes
    ENCODE = "encode"  # at least one track is re-encoded or synthesised


class RateControl(str, enum.Enum):
    """How a video encoder spends bits."""

    CRF = "crf"  # constant quality
    BITRATE = "bitrate"  # average bit rate
    CONSTRAINED_QUALITY = "constrained_quality"  # constant quality under a bit-rate cap


class Hardware(str, enum.Enum):
    """Which hardware encoder family a policy asks for (``AUTO``: any that works)."""

    AUTO = "auto"
    NVENC = "nvenc"
    QSV = "qsv"
    VAAPI = "vaapi"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class VideoEncode:
    """Encoder-neutral video settings; the encoder is chosen when the plan is applied,
    from what the machine's ffmpeg offers, so a plan stays the same everywhere.

    ``width``/``height`` are the output frame size when the frame is scaled
    (``None``: the source size is kept).
    """

    rate_control: RateControl = RateControl.CRF
    crf: int | None = None
    bitrate: int | None = None  # bits per second
    min_bitrate: int | None = None
    max_bitrate: int | None = None
    preset: str | None = None
    tune: str | None = None
    two_pass: bool = False
    width: int | None = None
    height: int | None = None
    scale_algorithm: str = "lanczos"
    hardware: Hardware = Hardware.NONE
    fallback_to_cpu: bool = True
    extra_args: tuple[str, ...] = ()  # the policy's ffmpeg_args, checked at load time


@dataclass(frozen=True, slots=True)
class AudioEncode:
    """Audio settings: bit rate (None: the encoder's default) and channel count
    (None: the source's; fewer channels are a downmix)."""

    bitrate: int | None = None
    channels: int | None = None


@dataclass(frozen=True, slots=True)
class EncodeSettings:
    """How one output track is encoded.

    ``codec`` is the codec the output track must have (ffprobe's name: hevc, aac,
    mov_text …). ``derived_from`` is the source track a synthesised track is
    made from (its ``PlannedTrack.source_index`` is None).
    """

    codec: str
    video: VideoEncode | None = None
    audio: AudioEncode | None = None
    derived_from: int | None = None

    @property
    def parameters(self) -> tuple[tuple[str, str], ...]:
        """The settings that differ from the defaults, as text pairs (dry-run, JSON)."""
        pairs: list[tuple[str, str]] = []
        for settings in (self.video, self.audio):
            if settings is None:
                continue
            defaults = type(settings)()
            for name in settings.__slots__:
                value = getattr(settings, name)
                if value != getattr(defaults, name):
                    pairs.append((name, _parameter_text(value)))
        if self.derived_from is not None:
            pairs.append(("derived_from", str(self.derived_from)))
        return tuple(pairs)


def _parameter_text(value: object) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return shlex.join(str(item) for item in value)  # ffmpeg_args, as a reader types them
    return str(value)


@dataclass(frozen=True, slots=True)
class PlannedTrack:
    """One output track: where it comes from and how it must end up."""

    source_index: int | None  # index into MediaFile.tracks; None for a synthesised track
    type: TrackType
    codec: str
    language: str
    title: str | None
    flags: TrackFlags
    encode: EncodeSettings | None = None


class Unchanged(enum.Enum):
    """Marks a plan field the plan leaves as the source has it."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True, slots=True)
class RemovedTrack:
    """A source track that the output will not contain, and why."""

    source_index: int
    reason: str


class TimeSource(str, enum.Enum):
    """Where the file's modification time comes from (``file_timestamp``)."""

    RELEASE = "release"  # a fixed time: the title's release date (a change by itself)
    ORIGINAL = "original"  # the file's time before vpo wrote it (when it is written)
    NOW = "now"  # the time of the write (when it is written)


@dataclass(frozen=True, slots=True)
class FileTime:
    """The modification time a phase wants the file to end with."""

    source: TimeSource
    mtime_ns: int | None = None  # RELEASE only
    reason: str = ""  # "release date 2001-07-20 (radarr digital_release)"


@dataclass(frozen=True, slots=True)
class Plan:
    """Desired end state of ``source`` after ``phase``."""

    source: MediaFile
    phase: str
    container: Container
    tracks: tuple[PlannedTrack, ...]
    removed: tuple[RemovedTrack, ...] = ()
    removed_attachments: tuple[int, ...] = ()  # attachment ids
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())  # why things happen (matched rules etc.)
    title: str | Unchanged | None = UNCHANGED  # the container (segment) title; None: removed
    file_time: FileTime | None = None  # file_timestamp; None: what writing the file gives
    # Other container tags set_container_metadata sets: (lower-case name, value), sorted;
    # value None removes the tag. Only names the container can hold (containers.py).
    tags: tuple[tuple[str, str | None], ...] = ()

    @property
    def kind(self) -> PlanKind:
        if any(t.encode is not None or t.source_index is None for t in self.tracks):
            return PlanKind.ENCODE
        if self.needs_rewrite:
            return PlanKind.REMUX
        if self.metadata_changes() or self.title_change() is not None or self.tag_changes():
            return PlanKind.METADATA
        if self.time_change() is not None:
            return PlanKind.METADATA  # only the file's time: no tool runs
        return PlanKind.NOOP

    def time_change(self) -> int | None:
        """The fixed modification time (ns) the file must be given, when it differs from
        the source's; None when the time is not a change by itself."""
        wanted = self.file_time
        if wanted is None or wanted.mtime_ns is None or wanted.mtime_ns == self.source.mtime_ns:
            return None
        return wanted.mtime_ns

    @property
    def only_time_changes(self) -> bool:
        """True when the file's time is all this plan changes (no tool runs)."""
        return (
            self.time_change() is not None
            and not self.needs_rewrite
            and not self.metadata_changes()
            and self.title_change() is None
            and not self.tag_changes()
            and not any(t.encode is not None or t.source_index is None for t in self.tracks)
        )

    @property
    def is_noop(self) -> bool:
        return self.kind is PlanKind.NOOP

    @property
    def needs_rewrite(self) -> bool:
        """True when the file's structure changes (not just its headers)."""
        if self.container is not self.source.container:
            return True
        if self.removed or self.removed_attachments:
            return True
        order = [t.source_index for t in self.tracks]
        return order != list(range(len(self.source.tracks)))

    def title_change(self) -> tuple[str | None, str | None] | None:
        """(before, after) of the container title when the plan changes it."""
        if isinstance(self.title, Unchanged) or self.title == self.source.title:
            return None
        return (self.source.title, self.title)

    def tag_changes(self) -> tuple[tuple[str, str | None, str | None], ...]:
        """(name, before, after) of each container tag (not the title) the plan
        changes; after None: removed."""
        return tuple(
            (name, self.source.tag(name), value)
            for name, value in self.tags
            if self.source.tag(name) != value
        )

    def global_tags(self) -> tuple[tuple[str, str], ...]:
        """Every container tag but the title after the plan: the source's with the
        plan's changes (what mkvpropedit/mkvmerge write as the Matroska global tags)."""
        merged = {name: value for name, value in self.source.tags if name != "title"}
        for name, value in self.tags:
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return tuple(sorted(merged.items()))

    def metadata_changes(self) -> tuple[TrackChange, ...]:
        """Per kept track, the header fields that differ from the source."""
        changes: list[TrackChange] = []
        for position, planned in enumerate(self.tracks):
            if planned.source_index is None:
                continue
            source = self.source.tracks[planned.source_index]
            fields = _changed_fields(source, planned)
            if fields:
                changes.append(TrackChange(position, planned.source_index, fields))
        return tuple(changes)

    def diff(self) -> tuple[TrackDiff, ...]:
        """Before → after per source track (in source order), then synthesised tracks.

        This is what dry-run prints; it is derived, so it can never disagree
        with the plan itself.
        """
        positions = {
            planned.source_index: position
            for position, planned in enumerate(self.tracks)
            if planned.source_index is not None
        }
        reasons = {removed.source_index: removed.reason for removed in self.removed}
        kept_in_source_order = sorted(positions)
        rank = {index: place for place, index in enumerate(kept_in_source_order)}
        rows: list[TrackDiff] = []
        for track in self.source.tracks:
            position = positions.get(track.index)
            if position is None:
                reason = reasons.get(track.index, "not in the plan")
                rows.append(TrackDiff(track.index, track, None, None, reason, ()))
                continue
            planned = self.tracks[position]
            changes = _changed_fields(track, planned)
            if planned.codec != track.codec:
                changes = (("codec", track.codec, planned.codec), *changes)
            moved = rank[track.index] != position - _synthesised_before(self.tracks, position)
            rows.append(TrackDiff(track.index, track, planned, position, None, changes, moved))
        for position, planned in enumerate(self.tracks):
            if planned.source_index is None:
                rows.append(TrackDiff(None, None, planned, position, None, ()))
        return tuple(rows)

    def source_track(self, planned: PlannedTrack) -> Track | None:
        if planned.source_index is None:
            return None
        return self.source.tracks[planned.source_index]

    def expected_result(self) -> MediaFile:
        """The MediaFile a perfect execution of this plan yields (used to verify and to
        check convergence without running any tool)."""
        tracks: list[Track] = []
        for position, planned in enumerate(self.tracks):
            source = self.source_track(planned)
            base = source or Track(
                index=position, track_id=position, type=planned.type, codec=planned.codec
            )
            tracks.append(
                replace(
                    _encoded(base, planned.encode),
                    index=position,
                    track_id=position,
                    codec=planned.codec,
                    language=planned.language,
                    language_ietf=None
                    if source is None or planned.language != source.language
                    else source.language_ietf,
                    title=planned.title,
                    flags=planned.flags,
                )
            )
        attachments = tuple(
            a for a in self.source.attachments if a.attachment_id not in self.removed_attachments
        )
        encoded = any(t.encode is not None or t.source_index is None for t in self.tracks)
        fixed = self.file_time.mtime_ns if self.file_time is not None else None
        title = self.source.title if isinstance(self.title, Unchanged) else self.title
        return replace(
            self.source,
            mtime_ns=self.source.mtime_ns if fixed is None else fixed,
            container=self.container,
            tracks=tuple(tracks),
            attachments=attachments,
            bit_rate=None if encoded else self.source.bit_rate,  # unknown until probed
            title=title,
            tags=container_tags(self.global_tags(), title),
        )


@dataclass(frozen=True, slots=True)
class TrackChange:
    """Header fields of one kept track that the plan changes: name → (before, after)."""

    position: int
    source_index: int
    fields: tuple[tuple[str, object, object], ...]


def _encoded(track: Track, encode: EncodeSettings | None) -> Track:
    """What encoding changes besides the codec: frame size, channels; the bit rate
    becomes unknown until the output is probed."""
    if encode is None:
        return track
    if encode.video is not None:
        width = encode.video.width or track.width
        height = encode.video.height or track.height
        return replace(track, width=width, height=height, bit_rate=None)
    if encode.audio is not None:
        channels = encode.audio.channels or track.channels
        layout = track.channel_layout if channels == track.channels else None
        return replace(track, channels=channels, channel_layout=layout, bit_rate=None)
    return replace(track, bit_rate=None)


def _synthesised_before(tracks: tuple[PlannedTrack, ...], position: int) -> int:
    return sum(1 for t in tracks[:position] if t.source_index is None)


@dataclass(frozen=True, slots=True)
class TrackDiff:
    """One row of the before → after table."""

    source_index: int | None  # None for a synthesised track
    before: Track | None
    after: PlannedTrack | None  # None when removed
    new_position: int | None
    removal_reason: str | None
    changes: tuple[tuple[str, object, object], ...]
    moved: bool = False  # its place among the kept tracks changed (not just shifted up)


def _changed_fields(source: Track, planned: PlannedTrack) -> tuple[tuple[str, object, object], ...]:
    changed: list[tuple[str, object, object]] = []
    if source.language != planned.language:
        changed.append(("language", source.language, planned.language))
    if (source.title or None) != (planned.title or None):
        changed.append(("title", source.title, planned.title))
    if source.flags == planned.flags:  # the common case: no flag to compare one by one
        return tuple(changed)
    for name in TrackFlags.__slots__:
        before, after = getattr(source.flags, name), getattr(planned.flags, name)
        if before != after:
            changed.append((name, before, after))
    return tuple(changed)


def identity_plan(media: MediaFile, phase: str) -> Plan:
    """A plan that keeps the file exactly as it is (the evaluator's starting point)."""
    tracks = tuple(
        PlannedTrack(
            source_index=track.index,
            type=track.type,
            codec=track.codec,
            language=track.language,
            title=track.title,
            flags=track.flags,
        )
        for track in media.tracks
    )
    return Plan(source=media, phase=phase, container=media.container, tracks=tracks)
