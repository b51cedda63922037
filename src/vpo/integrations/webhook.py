"""``POST /api/v1/hooks/sonarr|radarr``: the daemon's side of a Sonarr/Radarr webhook.

The same events as ``vpo hook``; an imported file must lie inside
``[library] roots`` after the path map (403 otherwise, as for every path a
client names) and becomes a process job with ``[integrations.*] policy``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from vpo.errors import VpoError
from vpo.integrations.arr import Arr, HookAction, map_path, parse_path_map, parse_webhook
from vpo.integrations.library_sync import follow_renames, forget_deleted
from vpo.server.services import ServiceError, Services

log = logging.getLogger("vpo.server")


class WebhookAnswer(BaseModel):
    event: str
    action: str
    job_id: int | None = None
    files: int = 0
    message: str


def handle_webhook(
    arr: Arr, payload: Mapping[str, object], services: Services, client: str
) -> WebhookAnswer:
    settings = getattr(services.config.integrations, arr.value)
    try:
        event = parse_webhook(arr, payload)
        maps = parse_path_map(settings.path_map)
    except ValueError as error:
        raise ServiceError(422, str(error)) from None
    action = event.action.value
    if event.action in (HookAction.TEST, HookAction.IGNORE):
        message = "OK" if event.action is HookAction.TEST else "nothing to do"
        return WebhookAnswer(event=event.event, action=action, message=message)
    files = services.confine_all([map_path(p, maps) for p in event.files], client)
    library = services.library
    if event.action is HookAction.DELETE:
        gone = forget_deleted(library, [Path(p) for p in files])
        return WebhookAnswer(
            event=event.event, action=action, files=gone, message=f"{gone} marked missing"
        )
    if event.action is HookAction.RENAME:
        previous = services.confine_all([map_path(p, maps) for p in event.previous], client)
        moved = follow_renames(
            library, list(zip(map(Path, previous), map(Path, files), strict=True))
        )
        return WebhookAnswer(
            event=event.event, action=action, files=moved, message=f"library follows {moved}"
        )
    if event.replaced:
        replaced = services.confine_all([map_path(p, maps) for p in event.replaced], client)
        forget_deleted(library, [Path(p) for p in replaced])
    if not settings.policy:
        raise ServiceError(422, f"set [integrations.{arr.value}] policy: the policy for its files")
    missing = next((name for name in files if not Path(name).is_file()), None)
    if missing is not None:
        raise ServiceError(
            404, f"{missing} not found (is [integrations.{arr.value}] path_map right?)"
        )
    if settings.url:
        _fetch_metadata(arr, event.title_id, [Path(name) for name in files], services)
    from vpo.watch.sink import process_job

    try:
        new = process_job(files, settings.policy, services.policy_dir)
    except VpoError as error:
        raise ServiceError(422, str(error)) from None
    job = services.queue(new)
    log.info("%s webhook %s: job %d for %s", arr.program, event.event, job.id, ", ".join(files))
    return WebhookAnswer(
        event=event.event,
        action=action,
        job_id=job.id,
        files=len(files),
        message=f"job {job.id} queued",
    )


def _fetch_metadata(arr: Arr, their_id: int | None, paths: list[Path], services: Services) -> None:
    """The title of the imported files, before their job runs (the job would otherwise
    look it up in the whole catalogue); a failure is one warning in the log."""
    from vpo.integrations.arr_metadata import ArrMetadata

    fetcher = ArrMetadata(services.config.integrations, services.library)
    if their_id is not None:
        fetcher.fetch_title(arr, their_id, paths)
    else:
        fetcher.fetch(paths)
