"""The REST API under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``).

Endpoints are thin: each calls one ``Services`` or ``Library`` method and
returns the existing model (Job, LibraryTotals, RunRow, FileResultRow, MediaFile
inside FileDetail …). Synchronous handlers run in FastAPI's thread pool, so the
database is never used on the event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from vpo import __version__
from vpo.jobs.model import Job, JobRequest, JobStatus, JobType
from vpo.library.file_queries import (
    FileDetail,
    FileFilters,
    FileOrder,
    FileSummary,
    Resolution,
)
from vpo.library.records import FileResultRow, LibraryError, LibraryTotals, RunRow
from vpo.server.guard import Guard
from vpo.server.services import (
    Approval,
    PlanRequest,
    PlanSet,
    PolicyCheck,
    PolicyName,
    PolicyText,
    ServiceError,
    Services,
    ToolInfo,
)

T = TypeVar("T")
PREFIX = "/api/v1"
MAX_LIMIT = 500
HEARTBEAT_SECONDS = 15.0

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Offset = Annotated[int, Query(ge=0, description="Items to skip")]


class Page(BaseModel, Generic[T]):
    """Every list answer: one page of items and the number of matches in all."""

    items: list[T]
    total: int
    limit: int
    offset: int


class Health(BaseModel):
    status: str
    version: str
    queue_length: int
    running_jobs: list[int]


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The policy YAML, comments and all")


@dataclass(frozen=True, slots=True)
class RunDetail:
    run: RunRow
    results: list[FileResultRow]


def create_app(services: Services, *, token: str | None, max_body: int) -> Guard:
    """The ASGI application: FastAPI behind the Guard (log, body limit, token, CSRF)."""
    api = FastAPI(
        title="vpo",
        version=__version__,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    library = services.library

    @api.exception_handler(ServiceError)
    async def service_error(request: Request, error: ServiceError) -> JSONResponse:
        body: dict[str, object] = {"detail": str(error)}
        if error.problems is not None:
            body["problems"] = [p.model_dump() for p in error.problems]
        return JSONResponse(body, status_code=error.status)

    @api.exception_handler(LibraryError)
    async def library_error(request: Request, error: LibraryError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=503)

    def client(request: Request) -> str:
        return request.client.host if request.client else "unknown client"

    # -------------------------------------------------------------- library

    @api.get(f"{PREFIX}/health", tags=["service"])
    def health() -> Health:
        running = services.runner.running_job
        return Health(
            status="ok",
            version=__version__,
            queue_length=library.jobs.count(JobStatus.QUEUED),
            running_jobs=[] if running is None else [running],
        )

    @api.get(f"{PREFIX}/tools", tags=["service"])
    def tools() -> list[ToolInfo]:
        """The external tools and their versions (as ``vpo doctor``; read once)."""
        return services.tool_report()

    @api.get(f"{PREFIX}/library", tags=["library"])
    def library_totals() -> LibraryTotals:
        return library.cached_totals()

    @api.get(f"{PREFIX}/files", tags=["library"])
    def files(
        limit: Limit = 50,
        offset: Offset = 0,
        path: Annotated[str | None, Query(max_length=4096, description="Substring")] = None,
        container: str | None = None,
        video_codec: str | None = None,
        audio_language: Annotated[str | None, Query(description="Has an audio track in")] = None,
        no_audio_language: Annotated[str | None, Query(description="No audio track in")] = None,
        subtitle_language: str | None = None,
        no_subtitle_language: str | None = None,
        resolution: Resolution | None = None,
        never_processed: bool = False,
        last_failed: Annotated[bool, Query(description="Last processing result failed")] = False,
        sort: Annotated[FileOrder, Query(description="Order; '-' first: descending")] = (
            FileOrder.ID
        ),
    ) -> Page[FileSummary]:
        filters = FileFilters(
            path_contains=path,
            container=container,
            video_codec=video_codec,
            audio_language=audio_language,
            no_audio_language=no_audio_language,
            subtitle_language=subtitle_language,
            no_subtitle_language=no_subtitle_language,
            resolution=resolution,
            never_processed=never_processed,
            last_failed=last_failed,
        )
        items, total = library.files_page(filters, limit=limit, offset=offset, order=sort)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @api.get(f"{PREFIX}/files/{{file_id}}", tags=["library"])
    def file(file_id: int) -> FileDetail:
        found = library.file_detail(file_id)
        if found is None:
            raise ServiceError(404, f"no file {file_id}")
        return found

    @api.get(f"{PREFIX}/runs", tags=["library"])
    def runs(limit: Limit = 50, offset: Offset = 0) -> Page[RunRow]:
        items, total = library.runs_page(limit=limit, offset=offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @api.get(f"{PREFIX}/runs/{{run_id}}", tags=["library"])
    def run(run_id: int) -> RunDetail:
        found = library.run(run_id)
        if found is None:
            raise ServiceError(404, f"no run {run_id}")
        return RunDetail(run=found[0], results=found[1])

    # ----------------------------------------------------------------- jobs

    @api.post(f"{PREFIX}/jobs", status_code=201, tags=["jobs"])
    def create_job(body: JobRequest, request: Request) -> Job:
        return services.create_job(body, client(request))

    @api.get(f"{PREFIX}/jobs", tags=["jobs"])
    def jobs(
        limit: Limit = 50,
        offset: Offset = 0,
        status: Annotated[list[JobStatus] | None, Query()] = None,
        type: JobType | None = None,  # the API's parameter name
    ) -> Page[Job]:
        items, total = library.jobs.page(
            statuses=status or (), job_type=type, limit=limit, offset=offset
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @api.get(f"{PREFIX}/jobs/{{job_id}}", tags=["jobs"])
    def job(job_id: int) -> Job:
        return services.job(job_id)

    @api.post(f"{PREFIX}/jobs/{{job_id}}/cancel", tags=["jobs"])
    def cancel(job_id: int) -> Job:
        return services.cancel(job_id)

    @api.post(f"{PREFIX}/jobs/{{job_id}}/retry", tags=["jobs"])
    def retry(job_id: int) -> Job:
        return services.retry(job_id)

    @api.post(f"{PREFIX}/queue/wake", status_code=204, tags=["jobs"])
    def wake() -> Response:
        """Look at the queue again (after ``vpo process --queue`` wrote a job directly)."""
        services.runner.wake()
        return Response(status_code=204)

    # -------------------------------------------------------------- policies

    @api.get(f"{PREFIX}/policies", tags=["policies"])
    def policies(limit: Limit = 50, offset: Offset = 0) -> Page[PolicyName]:
        found = services.policies()
        return Page(
            items=found[offset : offset + limit], total=len(found), limit=limit, offset=offset
        )

    @api.post(f"{PREFIX}/policies/validate", tags=["policies"])
    def validate_policy(body: PolicyBody) -> PolicyCheck:
        return services.check_policy(body.text, "<policy>")

    @api.get(f"{PREFIX}/policies/{{name}}", tags=["policies"])
    def get_policy(name: str) -> PolicyText:
        return services.get_policy(name)

    @api.put(f"{PREFIX}/policies/{{name}}", tags=["policies"])
    def put_policy(name: str, body: PolicyBody) -> PolicyText:
        return services.put_policy(name, body.text)

    # ----------------------------------------------------------------- plans

    @api.post(f"{PREFIX}/plans", status_code=201, tags=["plans"])
    def create_plan(body: PlanRequest, request: Request) -> Job:
        return services.create_plan(body, client(request))

    @api.get(f"{PREFIX}/plans/{{job_id}}", tags=["plans"])
    def plans(job_id: int) -> PlanSet:
        return services.plans(job_id)

    @api.post(f"{PREFIX}/plans/{{job_id}}/approve", status_code=201, tags=["plans"])
    def approve(job_id: int, body: Approval | None = None) -> Job:
        return services.approve(job_id, None if body is None else body.files)

    @api.post(f"{PREFIX}/plans/{{job_id}}/reject", tags=["plans"])
    def reject(job_id: int) -> Job:
        return services.reject(job_id)

    # ---------------------------------------------------------------- events

    @api.get(
        f"{PREFIX}/events",
        tags=["service"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def events(request: Request) -> StreamingResponse:
        """Server-sent events: ``job`` (state), ``file`` (a file's result), ``progress``."""
        subscription = services.events.subscribe()

        async def stream() -> AsyncIterator[bytes]:
            try:
                yield b": connected\n\n"
                while True:
                    try:
                        event = await asyncio.wait_for(subscription.queue.get(), HEARTBEAT_SECONDS)
                    except asyncio.TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    if event is None:
                        return
                    data = json.dumps({"job_id": event.job_id, **event.data})
                    yield f"event: {event.event}\ndata: {data}\n\n".encode()
            finally:
                services.events.unsubscribe(subscription)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    from vpo.web.pages import mount  # the web interface: pages on the same services

    mount(api, services, token=token)
    return Guard(api, token=token, max_body=max_body)
