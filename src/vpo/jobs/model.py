"""Jobs as data: what a client asks for (JobRequest) and what the queue holds (Job).

These pydantic models are the request and response bodies of the REST API, the
rows ``vpo jobs`` prints and what the runner works from; nothing here does I/O.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field


class JobType(str, enum.Enum):
    SCAN = "scan"
    PROCESS = "process"  # with dry_run: plans only, nothing written
    PLAN = "plan"  # a dry run whose plans wait for approval


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.INTERRUPTED})
CANCELLABLE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.INTERRUPTED})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JobLimits(_Frozen):
    """Limits of one job, as ``vpo process --max-files/--max-duration/--end-by``."""

    max_files: int | None = Field(default=None, ge=1, description="Start at most this many files")
    max_duration: float | None = Field(
        default=None, gt=0, description="Start no file after this many seconds"
    )
    end_by: str | None = Field(
        default=None, pattern=r"^\d{1,2}:\d{2}$", description="Start no file after HH:MM"
    )


class JobRequest(_Frozen):
    """``POST /api/v1/jobs``: a new job."""

    type: JobType
    paths: list[str] = Field(min_length=1, max_length=10_000)
    policy: str | None = Field(
        default=None, description="Name of a policy in [server] policy_dir (without .yaml)"
    )
    dry_run: bool = False
    priority: int = Field(default=0, ge=-100, le=100, description="Higher runs first")
    limits: JobLimits = Field(default_factory=JobLimits)


class JobOptions(_Frozen):
    """What a job carries besides its paths (stored as JSON)."""

    limits: JobLimits = Field(default_factory=JobLimits)
    files: list[str] | None = Field(
        default=None, description="Exactly these files (an approved plan), no directory walk"
    )
    plan_job: int | None = Field(default=None, description="The plan job this job approves")


class JobProgress(_Frozen):
    files_done: int = 0
    files_total: int | None = None
    active: dict[str, str] = Field(
        default_factory=dict, description="File being worked on → what it is doing"
    )


class Job(_Frozen):
    """One job as stored in the library."""

    id: int
    type: JobType
    dry_run: bool
    paths: list[str]
    policy_name: str | None
    policy_hash: str | None
    priority: int
    status: JobStatus
    progress: JobProgress
    options: JobOptions
    created_at: float
    started_at: float | None
    finished_at: float | None
    error: str | None
    run_ids: list[int] = Field(default_factory=list, description="Processing runs of this job")


class NewJob(_Frozen):
    """A checked request, ready to store: the policy is a snapshot of its text."""

    type: JobType
    paths: list[str]
    dry_run: bool = False
    policy_name: str | None = None
    policy_text: str | None = None
    policy_hash: str | None = None
    priority: int = 0
    options: JobOptions = Field(default_factory=JobOptions)


class PlannedFile(_Frozen):
    """One file of a plan job: its plan document and the stat key it was made from."""

    id: int
    path: str
    kind: str | None
    plan: dict[str, object]


class JobEvent(_Frozen):
    """What ``GET /api/v1/events`` streams: ``job`` (state), ``file`` (result), ``progress``."""

    event: str
    job_id: int
    data: dict[str, object]
