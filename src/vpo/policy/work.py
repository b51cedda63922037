"""The mutable scratch state of one evaluation; never escapes evaluate()."""

from __future__ import annotations

from dataclasses import dataclass, field

from vpo.media.metadata import NO_METADATA, FileMetadata
from vpo.media.model import Container, MediaFile
from vpo.plan import UNCHANGED, FileTime, PlannedTrack, RemovedTrack, Unchanged


@dataclass(slots=True)
class Work:
    """The evolving output of one evaluation (private to this package)."""

    media: MediaFile
    tracks: list[PlannedTrack]
    container: Container
    removed: list[RemovedTrack] = field(default_factory=list)
    removed_attachments: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    title: str | Unchanged | None = UNCHANGED  # the container title (set_container_metadata)
    tags: dict[str, str | None] = field(default_factory=dict)  # other tags; None: remove
    metadata: FileMetadata = NO_METADATA  # what Sonarr/Radarr know about the file's title
    file_time: FileTime | None = None  # file_timestamp

    def remove(self, track: PlannedTrack, reason: str) -> None:
        assert track.source_index is not None
        self.tracks.remove(track)
        self.removed.append(RemovedTrack(track.source_index, reason))

    def dimensions(self, track: PlannedTrack) -> tuple[int | None, int | None, int | None]:
        if track.source_index is None:
            return (None, None, None)
        source = self.media.tracks[track.source_index]
        return (source.channels, source.width, source.height)
