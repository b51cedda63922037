"""The web interface: server-rendered pages on the same app as the REST API.

Every page handler calls the same ``Services``/``Library`` functions as the
``/api/v1`` endpoints, and state changes (save a policy, dry-run, approve,
cancel, retry) are made by the browser through the API itself (``static/vpo.js``
posts JSON), so the API's guard (token, CSRF, roots) protects them too.

Jinja2 renders the HTML: autoescaping is on for every template, so a file name
or title such as ``<script>`` is shown as text. Handlers are synchronous and
run in FastAPI's thread pool, like the API's, so the database is never used on
the event loop.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict

from vpo import __version__
from vpo.cli.render.tracks import flags_text, human_duration, track_details, track_language
from vpo.config.keys import ALL_KEYS
from vpo.config.models import SECTIONS, section_of
from vpo.config.settings import render_value
from vpo.jobs.model import JobStatus, JobType
from vpo.library.file_queries import FileFilters, FileOrder, Resolution
from vpo.probe.codecs import codec_label
from vpo.server.guard import SESSION_COOKIE, session_value
from vpo.server.services import ServiceError, Services
from vpo.web import views

_HERE = Path(__file__).parent
_SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
NAV = (
    ("/", "Dashboard"),
    ("/library", "Library"),
    ("/policies", "Policies"),
    ("/jobs", "Jobs"),
    ("/settings", "Settings"),
)


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("vpo.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["size"] = views.size
    env.filters["signed_size"] = views.signed_size
    env.filters["duration"] = human_duration
    env.filters["codec"] = lambda value: codec_label(value) if value else ""
    env.globals["nav"] = NAV
    env.globals["version"] = __version__
    return env


def mount(api: FastAPI, services: Services, *, token: str | None) -> None:
    """Add the pages and ``/static`` to ``api`` (the Guard in front asks for the session)."""
    env = environment()
    library = services.library
    api.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")

    def page(request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(
            path=request.url.path, login=token is not None, **context
        )
        return HTMLResponse(html, status_code=code, headers=_SECURITY_HEADERS)

    def problem(request: Request, error: ServiceError) -> HTMLResponse:
        return page(request, "error.html", code=error.status, message=str(error))

    # ---------------------------------------------------------------- session

    @api.get("/login", include_in_schema=False)
    def login_page(request: Request) -> HTMLResponse:
        return page(request, "login.html", title="Access token")

    @api.post("/login", include_in_schema=False)
    def login(body: Login) -> Response:
        """The token, once: answered with an HttpOnly SameSite=Strict session cookie."""
        if token is None:
            return Response(status_code=204)
        if not hmac.compare_digest(body.token.encode("utf-8"), token.encode("utf-8")):
            return JSONResponse({"detail": "wrong access token"}, status_code=401)
        answer = Response(status_code=204)
        answer.set_cookie(
            SESSION_COOKIE,
            session_value(token),
            httponly=True,
            samesite="strict",
            secure=False,  # vpo serves plain HTTP; a TLS proxy in front adds its own
            path="/",
        )
        return answer

    @api.post("/logout", include_in_schema=False)
    def logout() -> Response:
        answer = Response(status_code=204)
        answer.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return answer

    # -------------------------------------------------------------- dashboard

    @api.get("/", include_in_schema=False)
    def dashboard(request: Request) -> HTMLResponse:
        totals = library.cached_totals()  # the API's cache (same recent_runs as /library)
        active, _ = library.jobs.page(
            statuses=(JobStatus.RUNNING, JobStatus.QUEUED), job_type=None, limit=20, offset=0
        )
        failed, failed_total = library.files_page(FileFilters(last_failed=True), limit=10, offset=0)
        runs, _ = library.runs_page(limit=60, offset=0)
        saved = views.bar_chart(
            [views.Bar(name, value) for name, value in list(totals.saved_by_policy.items())[:8]],
            title="Space saved per policy",
        )
        cumulative = 0
        points: list[tuple[float, int]] = []
        for run in sorted(runs, key=lambda r: r.started_at):
            cumulative += max(run.bytes_saved or 0, 0)
            points.append((run.finished_at or run.started_at, cumulative))
        return page(
            request,
            "dashboard.html",
            title="Dashboard",
            totals=totals,
            top=views.top,
            active=active,
            failed=failed,
            failed_total=failed_total,
            saved_chart=saved,
            time_chart=views.line_chart(points, title="Space saved over time (last 60 runs)"),
        )

    # ---------------------------------------------------------------- library

    @api.get("/library", include_in_schema=False)
    def library_page(
        request: Request,
        q: Annotated[str, Query(max_length=4096)] = "",
        container: str = "",
        video_codec: str = "",
        audio_language: str = "",
        no_audio_language: str = "",
        subtitle_language: str = "",
        no_subtitle_language: str = "",
        resolution: str = "",
        never_processed: bool = False,
        last_failed: bool = False,
        sort: str = "id",
        limit: int = 50,
        offset: int = 0,
    ) -> HTMLResponse:
        limit, offset = views.clamp_page(limit, offset)
        order = next((o for o in FileOrder if o.value == sort), FileOrder.ID)
        try:
            resolution_class = Resolution(resolution) if resolution else None
        except ValueError:
            resolution_class = None
        filters = FileFilters(
            path_contains=q or None,
            container=container or None,
            video_codec=video_codec or None,
            audio_language=audio_language or None,
            no_audio_language=no_audio_language or None,
            subtitle_language=subtitle_language or None,
            no_subtitle_language=no_subtitle_language or None,
            resolution=resolution_class,
            never_processed=never_processed,
            last_failed=last_failed,
        )
        items, total = library.files_page(filters, limit=limit, offset=offset, order=order)
        totals = library.cached_totals()
        query = {
            "q": q,
            "container": container,
            "video_codec": video_codec,
            "audio_language": audio_language,
            "no_audio_language": no_audio_language,
            "subtitle_language": subtitle_language,
            "no_subtitle_language": no_subtitle_language,
            "resolution": resolution,
        }
        kept = [(k, v) for k, v in query.items() if v]
        kept += [
            (k, "true")
            for k, v in (("never_processed", never_processed), ("last_failed", last_failed))
            if v
        ]
        sorted_by = tuple(kept)
        if order is not FileOrder.ID:
            kept.append(("sort", order.value))
        return page(
            request,
            "library.html",
            sort_links=views.sort_links("/library", sorted_by, order.value),
            title="Library",
            items=items,
            pages=views.Pager(total, limit, offset, "/library", tuple(kept)),
            query=query,
            never_processed=never_processed,
            last_failed=last_failed,
            containers=sorted(totals.by_container),
            codecs=sorted(totals.by_video_codec),
            languages=sorted(set(totals.by_audio_language) | set(totals.by_subtitle_language)),
            resolutions=[r.value for r in Resolution],
            roots=[str(root) for root in services.roots],
        )

    # ------------------------------------------------------------------- file

    @api.get("/files/{file_id}", include_in_schema=False)
    def file_page(request: Request, file_id: int) -> HTMLResponse:
        found = library.file_detail(file_id)
        if found is None:
            return problem(request, ServiceError(404, f"no file {file_id}"))
        tracks = []
        if found.media is not None:
            tracks = [
                {
                    "id": t.track_id,
                    "type": t.type.value,
                    "codec": codec_label(t.codec),
                    "language": track_language(t),
                    "title": t.title or "",
                    "flags": flags_text(t.flags),
                    "details": track_details(t),
                }
                for t in found.media.tracks
            ]
        return page(
            request,
            "file.html",
            title=found.path.name,
            file=found,
            tracks=tracks,
            history=list(reversed(found.history)),
            policies=services.policies(),
        )

    # --------------------------------------------------------------- policies

    @api.get("/policies", include_in_schema=False)
    def policies_page(
        request: Request,
        edit: str = "",
        new: str = "",
        paths: Annotated[list[str] | None, Query()] = None,
    ) -> HTMLResponse:
        names = services.policies()
        current = None
        if edit:
            try:
                current = services.get_policy(edit)
            except ServiceError as error:
                return problem(request, error)
        return page(
            request,
            "policies.html",
            title="Policies",
            policies=names,
            current=current,
            new_name=new,
            paths=[p for p in paths or () if p] or [str(root) for root in services.roots[:1]],
        )

    # ------------------------------------------------------------------ plans

    @api.get("/plans/{job_id}", include_in_schema=False)
    def plan_page(request: Request, job_id: int, limit: int = 50, offset: int = 0) -> HTMLResponse:
        try:
            found = services.plans(job_id)
        except ServiceError as error:
            return problem(request, error)
        limit, offset = views.clamp_page(limit, offset)
        files = []
        for item in found.items[offset : offset + limit]:
            phases = []
            found_phases = item.plan.get("phases")
            for phase in found_phases if isinstance(found_phases, list) else []:
                plan = phase.get("plan") if isinstance(phase, Mapping) else None
                phases.append(
                    {
                        "name": phase.get("name"),
                        "outcome": phase.get("outcome"),
                        "reason": phase.get("reason"),
                        "kind": plan.get("kind") if plan else None,
                        "container": plan.get("container") if plan else None,
                        "rows": views.plan_rows(plan) if plan else [],
                        "warnings": plan.get("warnings", []) if plan else [],
                        "notes": plan.get("notes", []) if plan else [],
                    }
                )
            files.append({"item": item, "phases": phases, "error": item.plan.get("error")})
        approval = library.jobs.approval_of(job_id)
        return page(
            request,
            "plan.html",
            title=f"Plan {job_id}",
            job=found.job,
            files=files,
            counts=views.kind_counts([item.kind for item in found.items]),
            pages=views.Pager(len(found.items), limit, offset, f"/plans/{job_id}", ()),
            approval=approval,
            changing=sum(1 for item in found.items if item.kind not in ("noop", "error", None)),
        )

    # ------------------------------------------------------------------- jobs

    @api.get("/jobs", include_in_schema=False)
    def jobs_page(
        request: Request, status: str = "", type: str = "", limit: int = 50, offset: int = 0
    ) -> HTMLResponse:
        limit, offset = views.clamp_page(limit, offset)
        statuses = tuple(s for s in JobStatus if s.value == status)
        job_type = next((t for t in JobType if t.value == type), None)
        items, total = library.jobs.page(
            statuses=statuses, job_type=job_type, limit=limit, offset=offset
        )
        kept = tuple((k, v) for k, v in (("status", status), ("type", type)) if v)
        return page(
            request,
            "jobs.html",
            title="Jobs",
            jobs=items,
            pages=views.Pager(total, limit, offset, "/jobs", kept),
            status=status,
            type=type,
            statuses=[s.value for s in JobStatus],
            types=[t.value for t in JobType],
        )

    @api.get("/jobs/{job_id}", include_in_schema=False)
    def job_page(request: Request, job_id: int) -> HTMLResponse:
        try:
            job = services.job(job_id)
        except ServiceError as error:
            return problem(request, error)
        results = []
        for run_id in job.run_ids[-20:]:
            found = library.run(run_id)
            if found is not None:
                results.extend(found[1][:500])
        return page(
            request,
            "job.html",
            title=f"Job {job_id}",
            job=job,
            results=results,
            approval=library.jobs.approval_of(job_id) if job.type is JobType.PLAN else None,
        )

    # --------------------------------------------------------------- settings

    @api.get("/settings", include_in_schema=False)
    def settings_page(request: Request) -> HTMLResponse:
        config = services.config
        sections = []
        for section in SECTIONS:
            rows = []
            for key in (k for k in ALL_KEYS if k.section == section):
                value = getattr(section_of(config, section), key.name)
                if _secret(key.dotted) and value:
                    value = "(set, not shown)"
                rows.append(
                    {
                        "name": key.name,
                        "value": "(not set)" if value is None else render_value(value),
                        "source": services.config_sources.get(key.dotted, "unknown"),
                        "env": key.env_var,
                    }
                )
            sections.append((section, rows))
        database = library.path
        backups_dir = database.parent / f"{database.name}.backups"
        backups = (
            sorted(backups_dir.glob("*.db"), key=lambda p: p.stat().st_mtime)
            if (backups_dir.is_dir())
            else []
        )
        return page(
            request,
            "settings.html",
            title="Settings",
            sections=sections,
            tools=services.tools,
            database=database,
            database_size=_size_of(database),
            last_backup=backups[-1] if backups else None,
            last_backup_time=backups[-1].stat().st_mtime if backups else None,
            policy_dir=services.policy_dir,
            roots=[str(root) for root in services.roots],
        )


def _size_of(database: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += Path(f"{database}{suffix}").stat().st_size
    return total


def _secret(dotted: str) -> bool:
    """Keys whose values are credentials (notification URLs carry tokens too)."""
    return dotted in ("server.token", "notifications.urls") or dotted.endswith(
        (".api_key", ".token")
    )
