"""``vpo hook sonarr|radarr``: act on one custom-script call and exit.

An imported file is queued to a running ``vpo serve`` (which is woken at
once) or, when none runs, processed right here like ``vpo process``. A rename
or a deletion only updates the library. Every outcome is one line on stderr,
which Sonarr/Radarr write to their log at Info level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from vpo.config.models import ArrConfig, VPOConfig
from vpo.errors import ConfigError, ExitCode, FatalError
from vpo.integrations.arr import (
    Arr,
    HookAction,
    HookEvent,
    PathMaps,
    map_path,
    parse_hook_env,
    parse_path_map,
)
from vpo.integrations.library_sync import follow_renames, forget_deleted
from vpo.library import Library
from vpo.library.maintenance import running_daemon
from vpo.tools.locate import ToolPaths


@dataclass(frozen=True, slots=True)
class HookContext:
    config: VPOConfig
    policy_dir: Path
    tools: ToolPaths
    say: Callable[[str], None]  # one line to stderr


def run_hook(arr: Arr, environ: Mapping[str, str], context: HookContext) -> ExitCode:
    settings: ArrConfig = getattr(context.config.integrations, arr.value)
    try:
        event = parse_hook_env(arr, environ)
        maps = parse_path_map(settings.path_map)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    head = f"vpo hook {arr.value}: {event.event}"
    if event.action is HookAction.TEST:
        context.say(f"{head}: OK, vpo is reachable from {arr.program}")
        return ExitCode.OK
    if event.action is HookAction.IGNORE:
        context.say(f"{head}: nothing to do")
        return ExitCode.OK
    files = [Path(map_path(path, maps)) for path in event.files]
    if event.action is HookAction.DELETE:
        gone = _forget(context.config, files)
        context.say(f"{head}: {gone} file(s) marked missing in the library")
        return ExitCode.OK
    if event.action is HookAction.RENAME:
        previous = [Path(map_path(path, maps)) for path in event.previous]
        moved = _follow(context.config, list(zip(previous, files, strict=True)))
        context.say(f"{head}: the library follows {moved} of {len(files)} renamed file(s)")
        return ExitCode.OK
    return _process(event, files, settings, maps, context, head)


def _process(
    event: HookEvent,
    files: list[Path],
    settings: ArrConfig,
    maps: PathMaps,
    context: HookContext,
    head: str,
) -> ExitCode:
    from vpo.watch.sink import read_policy

    arr = event.arr
    if not settings.policy:
        raise ConfigError(f"set [integrations.{arr.value}] policy: the policy for its files")
    for path, reported in zip(files, event.files, strict=True):
        if not path.is_file():
            raise FatalError(
                f"hook {arr.value}: {event.event}: {path} not found (is "
                f"[integrations.{arr.value}] path_map right? {arr.program} reported {reported})"
            )
    names = files[0].name if len(files) == 1 else f"{len(files)} files"
    if event.replaced:
        replaced = [Path(map_path(p, maps)) for p in event.replaced]
        _forget(context.config, replaced)
    policy_path, text = read_policy(settings.policy, context.policy_dir)
    if settings.url:
        _fetch_metadata(event, files, context)
    address = running_daemon(context.config.library.database)
    if address is not None:
        from vpo.jobs.enqueue import enqueue, queued_line
        from vpo.jobs.model import JobType

        queued = enqueue(context.config, JobType.PROCESS, files, policy_path=policy_path)
        context.say(f"{head}: {names}: {queued_line(queued)}")
        if queued.warning:
            context.say(f"vpo hook {arr.value}: {queued.warning}")
        return ExitCode.OK
    import hashlib

    from vpo.apply.encode import TranscodeSettings
    from vpo.apply.settings import ApplySettings
    from vpo.batch.process import ProcessRequest
    from vpo.cli.process_run import run_process
    from vpo.integrations.notify import Notifier
    from vpo.policy.loader import parse_policy
    from vpo.policy.phases import select_phases

    config = context.config
    policy = parse_policy(text, str(policy_path))
    notifier = Notifier.from_config(  # a bad URL: exit 2, file untouched
        config.notifications, warn=lambda line: context.say(f"vpo hook {arr.value}: {line}")
    )
    context.say(f"{head}: {names}: no vpo serve is running, processing it now")
    request = ProcessRequest(
        paths=tuple(files),
        policy=policy,
        phases=select_phases(policy, None),
        tools=context.tools,
        extensions=tuple(config.discovery.extensions),
        settings=ApplySettings.from_jobs_config(config.jobs),
        transcode=TranscodeSettings.from_config(config.transcode),
        probe_timeout=config.tools.probe_timeout,
        recursive=False,
        workers=1,
        policy_name=policy_path.name,
        policy_hash=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
    )
    return run_process(
        request,
        database=config.library.database,
        as_json=False,
        quiet=False,
        policy_label=str(policy_path),
        stop_seconds=config.jobs.stop_seconds,
        notifier=notifier,
        what=f"vpo hook {arr.value}: {event.event} {names}",
        integrations=config.integrations,
    )


def _fetch_metadata(event: HookEvent, files: list[Path], context: HookContext) -> None:
    """Store what Sonarr/Radarr know about the files' title before they are processed:
    that one film or series (its id is in the event), else a catalogue match. A
    server that cannot answer is one line; the file is processed anyway."""
    from vpo.integrations.arr_metadata import ArrMetadata

    arr = event.arr

    def warn(text: str) -> None:
        context.say(f"vpo hook {arr.value}: {text}")

    with Library.open(context.config.library.database) as library:
        fetcher = ArrMetadata(context.config.integrations, library, warn=warn)
        if event.title_id is not None:
            fetcher.fetch_title(arr, event.title_id, files)
        else:
            fetcher.fetch(files)


def _forget(config: VPOConfig, paths: list[Path]) -> int:
    with Library.open(config.library.database) as library:
        return forget_deleted(library, paths)


def _follow(config: VPOConfig, pairs: list[tuple[Path, Path]]) -> int:
    with Library.open(config.library.database) as library:
        return follow_renames(library, pairs)
