"""What a Sonarr or Radarr custom-script call means (pure).

Both programs pass everything in environment variables named
``<program>_<field>`` (``radarr_eventtype``, ``radarr_moviefile_path`` …); on
Linux they arrive in lower case, but the names are read case-insensitively.
The variable sets follow their ``CustomScript.cs``: ``Download`` (also an
upgrade, with ``*_deletedpaths``; Sonarr v4's "On Import Complete" sends
``Download`` with ``sonarr_episodefile_paths``, several files), ``Rename`` (``*_paths`` and
``*_previouspaths``, ``|``-separated), ``EpisodeFileDelete`` /
``MovieFileDelete`` and ``Test``; every other event needs nothing from vpo.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath


class Arr(str, enum.Enum):
    SONARR = "sonarr"
    RADARR = "radarr"

    @property
    def program(self) -> str:
        return self.value.capitalize()

    @property
    def file_field(self) -> str:
        return "episodefile" if self is Arr.SONARR else "moviefile"

    @property
    def delete_event(self) -> str:
        return "EpisodeFileDelete" if self is Arr.SONARR else "MovieFileDelete"

    @property
    def title_field(self) -> str:
        return "series_title" if self is Arr.SONARR else "movie_title"

    @property
    def id_field(self) -> str:
        """The variable holding the series' or film's id in their API."""
        return "series_id" if self is Arr.SONARR else "movie_id"


class HookAction(enum.Enum):
    TEST = "test"  # the Test button in Settings > Connect: answer success
    PROCESS = "process"  # a file was imported (or upgraded): make it conform
    RENAME = "rename"  # files were renamed: the library follows
    DELETE = "delete"  # a file was deleted: the library marks it missing
    IGNORE = "ignore"  # Grab, health, updates…: nothing for vpo


@dataclass(frozen=True, slots=True)
class HookEvent:
    arr: Arr
    event: str
    action: HookAction
    files: tuple[str, ...] = ()  # PROCESS: the imported file(s); RENAME: the new names; DELETE
    previous: tuple[str, ...] = ()  # RENAME: the old names, in the same order
    replaced: tuple[str, ...] = ()  # PROCESS of an upgrade: the files it replaced
    title: str | None = None
    title_id: int | None = None  # the series' or film's id in their API (metadata)


def parse_hook_env(arr: Arr, environ: Mapping[str, str]) -> HookEvent:
    """The event in ``environ``; ValueError (one line) when it is not a call from ``arr``."""
    env = {key.lower(): value for key, value in environ.items()}
    prefix = f"{arr.value}_"

    def get(name: str) -> str:
        return env.get(prefix + name, "").strip()

    def split(name: str) -> tuple[str, ...]:
        return tuple(part for part in get(name).split("|") if part)

    event = get("eventtype")
    if not event:
        raise ValueError(
            f"{prefix}eventtype is not set: vpo hook {arr.value} is meant to be run by "
            f"{arr.program} (Settings > Connect > Custom Script)"
        )
    title = get(arr.title_field) or None
    file_field = arr.file_field
    if event == "Test":
        return HookEvent(arr, event, HookAction.TEST)
    if event == "Download":  # one import (or upgrade); Sonarr's Import Complete: several
        single = get(f"{file_field}_path")
        paths = (single,) if single else split(f"{file_field}_paths")
        if not paths:
            raise ValueError(f"{arr.program} sent {event} without {prefix}{file_field}_path")
        return HookEvent(
            arr,
            event,
            HookAction.PROCESS,
            paths,
            replaced=split("deletedpaths"),
            title=title,
            title_id=_number(get(arr.id_field)),
        )
    if event == "Rename":
        new, old = split(f"{file_field}_paths"), split(f"{file_field}_previouspaths")
        if len(new) != len(old):
            raise ValueError(
                f"{arr.program} sent {event} with {len(new)} new and {len(old)} previous paths"
            )
        return HookEvent(arr, event, HookAction.RENAME, new, old, title=title)
    if event == arr.delete_event:
        path = get(f"{file_field}_path")
        return HookEvent(arr, event, HookAction.DELETE, (path,) if path else (), title=title)
    return HookEvent(arr, event, HookAction.IGNORE, title=title)


PathMaps = tuple[tuple[PurePosixPath, PurePosixPath], ...]


def parse_path_map(entries: Sequence[str]) -> PathMaps:
    """``"THEIRS=OURS"`` entries, longest THEIRS first; ValueError for a malformed one."""
    pairs = []
    for entry in entries:
        theirs, sep, ours = entry.partition("=")
        if not sep or not theirs.strip().startswith("/") or not ours.strip().startswith("/"):
            raise ValueError(f'path_map entry {entry!r} must be "/their/prefix=/our/prefix"')
        pairs.append((PurePosixPath(theirs.strip()), PurePosixPath(ours.strip())))
    return tuple(sorted(pairs, key=lambda pair: len(pair[0].parts), reverse=True))


def map_path(path: str, maps: PathMaps) -> str:
    """``path`` as vpo sees it: the longest matching prefix (whole components) replaced."""
    pure = PurePosixPath(path)
    for theirs, ours in maps:
        if pure == theirs or theirs in pure.parents:
            return str(ours / pure.relative_to(theirs))
    return path


def unmap_path(path: str, maps: PathMaps) -> str:
    """``path`` as they see it (the inverse of map_path): the longest matching OURS
    prefix replaced by its THEIRS."""
    pure = PurePosixPath(path)
    for theirs, ours in sorted(maps, key=lambda pair: len(pair[1].parts), reverse=True):
        if pure == ours or ours in pure.parents:
            return str(theirs / pure.relative_to(ours))
    return path


def parse_webhook(arr: Arr, payload: Mapping[str, object]) -> HookEvent:
    """A Sonarr/Radarr webhook body (their ``Webhook*Payload`` classes, camelCase JSON):
    ``eventType``; ``movieFile``/``episodeFile`` with ``path``; ``deletedFiles`` on an
    upgrade; ``renamedMovieFiles``/``renamedEpisodeFiles`` with ``path`` and
    ``previousPath``. ValueError (one line) for a body that is not one."""
    event = payload.get("eventType")
    if not isinstance(event, str) or not event:
        raise ValueError(f"not a {arr.program} webhook: eventType is missing")
    item = "series" if arr is Arr.SONARR else "movie"
    media = payload.get(item)
    title = media.get("title") if isinstance(media, Mapping) else None
    title = title if isinstance(title, str) else None
    file_key = "episodeFile" if arr is Arr.SONARR else "movieFile"
    if event == "Test":
        return HookEvent(arr, event, HookAction.TEST, title=title)
    if event == "Download":  # Sonarr's Import Complete: "episodeFiles", a list
        path = _path_of(payload.get(file_key))
        paths = (path,) if path else _paths_of(payload.get(f"{file_key}s"))
        if not paths:
            raise ValueError(f"{arr.program} sent {event} without {file_key}.path")
        replaced = _paths_of(payload.get("deletedFiles"))
        their_id = media.get("id") if isinstance(media, Mapping) else None
        return HookEvent(
            arr,
            event,
            HookAction.PROCESS,
            paths,
            replaced=replaced,
            title=title,
            title_id=their_id if isinstance(their_id, int) and their_id > 0 else None,
        )
    if event == "Rename":
        renamed = _list(
            payload.get("renamedEpisodeFiles" if arr is Arr.SONARR else "renamedMovieFiles")
        )
        pairs = [(_path_of(r), _path_of(r, "previousPath")) for r in renamed]
        complete = [(new, old) for new, old in pairs if new and old]
        return HookEvent(
            arr,
            event,
            HookAction.RENAME,
            tuple(new for new, _ in complete),
            tuple(old for _, old in complete),
            title=title,
        )
    if event == arr.delete_event:
        path = _path_of(payload.get(file_key))
        return HookEvent(arr, event, HookAction.DELETE, (path,) if path else (), title=title)
    return HookEvent(arr, event, HookAction.IGNORE, title=title)


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else None


def _path_of(value: object, key: str = "path") -> str | None:
    if isinstance(value, Mapping):
        path = value.get(key)
        if isinstance(path, str) and path:
            return path
    return None


def _paths_of(value: object) -> tuple[str, ...]:
    return tuple(p for p in map(_path_of, _list(value)) if p)


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []
