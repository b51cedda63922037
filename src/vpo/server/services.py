"""What the API does, apart from HTTP: every endpoint is a thin call into ``Services``.

Paths are confined to the library roots, policies are named files of
``[server] policy_dir`` validated before use or storage, and jobs are queued in
the library and handed to the runner. Errors are ``ServiceError`` with the HTTP
status they map to.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from vpo.config.models import VPOConfig
from vpo.jobs.model import (
    Job,
    JobEvent,
    JobOptions,
    JobRequest,
    JobStatus,
    JobType,
    NewJob,
    PlannedFile,
)
from vpo.jobs.runner import JobRunner
from vpo.library import Library
from vpo.library.jobs import Transition
from vpo.policy.loader import PolicyError, parse_policy
from vpo.server.events import EventBus
from vpo.server.security import (
    InvalidNameError,
    RefusedError,
    confine,
    policy_file,
    resolved_roots,
)
from vpo.tools.locate import ToolPaths

log = logging.getLogger("vpo.server")


class ServiceError(Exception):
    def __init__(self, status: int, message: str, problems: list[PolicyProblem] | None = None):
        super().__init__(message)
        self.status = status
        self.problems = problems


class PolicyProblem(BaseModel):
    """One problem of a policy, as ``vpo policy validate`` prints it (``text``)."""

    model_config = ConfigDict(frozen=True)

    line: int | None
    field: str
    message: str
    text: str


class PolicyCheck(BaseModel):
    valid: bool
    phases: list[str] = Field(default_factory=list)
    problems: list[PolicyProblem] = Field(default_factory=list)


class PolicyText(BaseModel):
    name: str
    text: str
    valid: bool
    problems: list[PolicyProblem] = Field(default_factory=list)


class ToolInfo(BaseModel):
    """One external tool as ``vpo doctor`` reports it."""

    name: str
    path: str | None
    state: str
    detail: str


class PolicyName(BaseModel):
    name: str
    size: int
    modified: float


class PlanRequest(BaseModel):
    """``POST /api/v1/plans``: dry-run a policy on paths; the plans wait for approval."""

    model_config = ConfigDict(extra="forbid")

    policy: str
    paths: list[str] = Field(min_length=1, max_length=10_000)
    priority: int = Field(default=0, ge=-100, le=100)


class Approval(BaseModel):
    """``POST /api/v1/plans/{id}/approve`` body (optional): approve only these files."""

    model_config = ConfigDict(extra="forbid")

    files: list[str] | None = Field(
        default=None, max_length=10_000, description="Paths of planned files; all when absent"
    )


class PlanSet(BaseModel):
    job: Job
    items: list[PlannedFile]


def policy_dir_of(config: VPOConfig, config_file: Path) -> Path:
    """``[server] policy_dir``, else ``policies/`` beside the config file in use."""
    return config.server.policy_dir or config_file.parent / "policies"


@dataclass
class Services:
    library: Library
    config: VPOConfig
    runner: JobRunner
    events: EventBus
    policy_dir: Path
    # For the web interface's settings page (``vpo config show`` / ``vpo doctor``):
    config_sources: Mapping[str, str] = field(default_factory=dict)
    tools: ToolPaths | None = None

    def __post_init__(self) -> None:
        self.roots = resolved_roots(self.config.library.roots)
        self._tool_lock = threading.Lock()
        self._tool_report: list[ToolInfo] | None = None

    # ------------------------------------------------------------------ tools

    def tool_report(self) -> list[ToolInfo]:
        """Each tool's path and version, as ``vpo doctor`` reads them; read on the
        first request (never at start: a daemon starts no tool it does not need)
        and kept for the daemon's life."""
        from vpo.tools.versions import check_tool

        with self._tool_lock:
            if self._tool_report is None:
                tools = self.tools or ToolPaths()
                report = []
                for name in ("ffprobe", "ffmpeg", "mkvmerge", "mkvpropedit"):
                    status = check_tool(name, getattr(tools, name))
                    report.append(
                        ToolInfo(
                            name=name,
                            path=status.path,
                            state=status.state.value,
                            detail=status.detail,
                        )
                    )
                self._tool_report = report
            return self._tool_report

    # ------------------------------------------------------------------ paths

    def confine_all(self, paths: Sequence[str], client: str) -> list[str]:
        confined = []
        for raw in paths:
            try:
                confined.append(str(confine(raw, self.roots)))
            except RefusedError as error:
                log.warning("refused path from %s: %s", client, error)
                raise ServiceError(403, str(error)) from None
            except InvalidNameError as error:
                raise ServiceError(422, str(error)) from None
        return confined

    # --------------------------------------------------------------- policies

    def _policy_path(self, name: str) -> Path:
        try:
            return policy_file(self.policy_dir, name)
        except InvalidNameError as error:
            raise ServiceError(422, str(error)) from None
        except RefusedError as error:
            log.warning("refused policy name: %s", error)
            raise ServiceError(403, str(error)) from None

    def policies(self) -> list[PolicyName]:
        if not self.policy_dir.is_dir():
            return []
        found = []
        for entry in sorted(self.policy_dir.glob("*.yaml")):
            if entry.is_file():
                info = entry.stat()
                found.append(PolicyName(name=entry.stem, size=info.st_size, modified=info.st_mtime))
        return found

    def read_policy(self, name: str) -> tuple[Path, str]:
        path = self._policy_path(name)
        try:
            return path, path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ServiceError(404, f"no policy named {name!r} in {self.policy_dir}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ServiceError(422, f"{path}: cannot read the policy: {error}") from None

    def check_policy(self, text: str, file_name: str) -> PolicyCheck:
        try:
            policy = parse_policy(text, file_name)
        except PolicyError as error:
            return PolicyCheck(
                valid=False,
                problems=[
                    PolicyProblem(line=i.line, field=i.path, message=i.message, text=str(i))
                    for i in error.issues
                ],
            )
        return PolicyCheck(valid=True, phases=list(policy.phase_names()))

    def get_policy(self, name: str) -> PolicyText:
        path, text = self.read_policy(name)
        check = self.check_policy(text, str(path))
        return PolicyText(name=name, text=text, valid=check.valid, problems=check.problems)

    def put_policy(self, name: str, text: str) -> PolicyText:
        """Validate first; store the client's text as is (comments kept), atomically."""
        path = self._policy_path(name)
        check = self.check_policy(text, str(path))
        if not check.valid:
            raise ServiceError(422, f"{name}: the policy is not valid", check.problems)
        self.policy_dir.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.vpo-tmp")
        with temp.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(path)
        log.info("policy %s saved", name)
        return PolicyText(name=name, text=text, valid=True)

    # ------------------------------------------------------------------- jobs

    def create_job(self, request: JobRequest, client: str) -> Job:
        paths = self.confine_all(request.paths, client)
        new = NewJob(
            type=request.type,
            paths=paths,
            dry_run=request.dry_run,
            priority=request.priority,
            options=JobOptions(limits=request.limits),
            **self._policy_snapshot(request.type, request.policy),
        )
        return self._queue(new)

    def _policy_snapshot(self, job_type: JobType, name: str | None) -> dict[str, str | None]:
        if job_type is JobType.SCAN:
            return {}
        if not name:
            raise ServiceError(422, f"a {job_type.value} job needs a policy name")
        path, text = self.read_policy(name)
        check = self.check_policy(text, str(path))
        if not check.valid:
            raise ServiceError(422, f"policy {name!r} is not valid", check.problems)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        return {"policy_name": name, "policy_text": text, "policy_hash": digest}

    def _queue(self, new: NewJob) -> Job:
        job = self.library.jobs.add(new)
        log.info("job %d queued: %s %s", job.id, job.type.value, " ".join(job.paths))
        self.events.publish(JobEvent(event="job", job_id=job.id, data=job.model_dump(mode="json")))
        self.runner.wake()
        return job

    def job(self, job_id: int) -> Job:
        job = self.library.jobs.get(job_id)
        if job is None:
            raise ServiceError(404, f"no job {job_id}")
        return job

    def cancel(self, job_id: int) -> Job:
        return self._changed(self.runner.cancel(job_id), job_id, "cancelled")

    def retry(self, job_id: int) -> Job:
        return self._changed(self.runner.retry(job_id), job_id, "retried")

    @staticmethod
    def _changed(transition: Transition, job_id: int, verb: str) -> Job:
        if transition.job is None:
            raise ServiceError(404, f"no job {job_id}")
        if not transition.changed:
            status = transition.previous.value if transition.previous else "unknown"
            raise ServiceError(409, f"job {job_id} is {status}: it cannot be {verb}")
        return transition.job

    # ------------------------------------------------------------------ plans

    def create_plan(self, request: PlanRequest, client: str) -> Job:
        job_request = JobRequest(
            type=JobType.PLAN, paths=request.paths, policy=request.policy, priority=request.priority
        )
        return self.create_job(job_request, client)

    def plans(self, job_id: int) -> PlanSet:
        job = self._plan_job(job_id)
        return PlanSet(job=job, items=self.library.jobs.planned_files(job_id))

    def _plan_job(self, job_id: int) -> Job:
        job = self.job(job_id)
        if job.type is not JobType.PLAN:
            raise ServiceError(404, f"job {job_id} is a {job.type.value} job, not a plan")
        return job

    def approve(self, job_id: int, only: Sequence[str] | None = None) -> Job:
        """A process job for exactly the planned files (or the ``only`` ones among
        them), unless one changed since."""
        job = self._plan_job(job_id)
        if job.status is not JobStatus.COMPLETED:
            raise ServiceError(409, f"plan {job_id} is {job.status.value}, not completed")
        existing = self.library.jobs.approval_of(job_id)
        if existing is not None:
            raise ServiceError(409, f"plan {job_id} was already approved as job {existing}")
        files: list[str] = []
        planned = self.library.jobs.plans(job_id)
        if only is not None:
            chosen = set(only)
            unknown = chosen - {str(item.path) for item in planned}
            if unknown:
                raise ServiceError(422, f"not in plan {job_id}: {sorted(unknown)[0]}")
            planned = [item for item in planned if str(item.path) in chosen]
        for item in planned:
            if item.kind in ("noop", "error"):
                continue
            try:
                info = item.path.stat()
            except OSError:
                raise ServiceError(409, f"{item.path}: gone since it was planned") from None
            now = (info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns)
            if now != (item.size, item.mtime_ns, item.inode, item.ctime_ns):
                raise ServiceError(409, f"{item.path}: changed since it was planned; plan it again")
            files.append(str(item.path))
        if not files:
            raise ServiceError(409, f"plan {job_id} has nothing to change")
        text = self.library.jobs.policy_text(job_id)
        new = NewJob(
            type=JobType.PROCESS,
            paths=files,
            priority=job.priority,
            policy_name=job.policy_name,
            policy_text=text,
            policy_hash=job.policy_hash,
            options=JobOptions(files=files, plan_job=job_id),
        )
        return self._queue(new)

    def reject(self, job_id: int) -> Job:
        self._plan_job(job_id)
        transition = self.library.jobs.reject(job_id)
        return self._changed(transition, job_id, "rejected")
