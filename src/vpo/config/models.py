"""The validated settings object every command receives (STYLE §7: no global config).

Each section is a frozen pydantic model with ``extra="forbid"``; field
descriptions double as the documentation written by ``vpo init``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

APP_NAME = "vpo"

DEFAULT_EXTENSIONS: tuple[str, ...] = (
    "mkv",
    "mp4",
    "m4v",
    "webm",
    "avi",
    "mov",
    "ts",
    "m2ts",
    "mts",
    "wmv",
    "mpg",
    "mpeg",
    "flv",
    "ogm",
    "ogv",
)


def default_database_path() -> Path:
    """Where the library database lives unless configured (platformdirs user data dir)."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "library.db"


def _expand_user(value: object) -> object:
    """``~`` in a configured path means the home directory, as in a shell."""
    if isinstance(value, str) and value.startswith("~"):
        return Path(value).expanduser()
    if isinstance(value, Path) and str(value).startswith("~"):
        return value.expanduser()
    return value


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToolsConfig(_Section):
    """Where the external tools are; unset means "search PATH"."""

    ffprobe: Path | None = Field(
        default=None, description="ffprobe executable (probing non-Matroska files)"
    )
    ffmpeg: Path | None = Field(
        default=None, description="ffmpeg executable (MP4/other containers, encoding)"
    )
    mkvmerge: Path | None = Field(
        default=None, description="mkvmerge executable (Matroska probing, remux)"
    )
    mkvpropedit: Path | None = Field(
        default=None, description="mkvpropedit executable (in-place Matroska metadata edits)"
    )
    probe_timeout: float = Field(
        default=60.0,
        gt=0,
        strict=True,
        allow_inf_nan=False,
        description="Seconds one probe may take before it is abandoned",
    )

    _expand = field_validator("ffprobe", "ffmpeg", "mkvmerge", "mkvpropedit", mode="before")(
        _expand_user
    )

    def configured_paths(self) -> dict[str, Path | None]:
        """The tool name → configured path mapping ``locate_tools`` expects."""
        return {
            "ffprobe": self.ffprobe,
            "ffmpeg": self.ffmpeg,
            "mkvmerge": self.mkvmerge,
            "mkvpropedit": self.mkvpropedit,
        }


class LibraryConfig(_Section):
    """The SQLite library database."""

    database: Path = Field(
        default_factory=default_database_path,
        description="SQLite database file (default: the user data directory)",
    )

    roots: tuple[Path, ...] = Field(
        default=(),
        description="Library folders; every path a client of vpo serve names must lie inside one",
    )

    _expand = field_validator("database", mode="before")(_expand_user)

    @field_validator("roots", mode="before")
    @classmethod
    def _expand_roots(cls, value: object) -> object:
        if isinstance(value, (list, tuple)):
            return tuple(_expand_user(item) for item in value)
        return value


class DiscoveryConfig(_Section):
    """Which files a directory walk picks up."""

    extensions: tuple[str, ...] = Field(
        default=DEFAULT_EXTENSIONS,
        description="File extensions treated as media when walking directories",
    )

    @field_validator("extensions", mode="before")
    @classmethod
    def _normalise_extensions(cls, value: object) -> tuple[str, ...]:
        """Accept ``.MKV`` as ``mkv``: users write extensions many ways."""
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise PydanticCustomError("extensions_type", "must be a list of strings")
        cleaned = tuple(v.strip().lstrip(".").lower() for v in value)
        bad = next((v for v in cleaned if not v or "/" in v or "\\" in v), None)
        if bad is not None:
            raise PydanticCustomError("extension_value", f"contains an invalid extension {bad!r}")
        if not cleaned:
            raise PydanticCustomError("extensions_empty", "must list at least one extension")
        return tuple(dict.fromkeys(cleaned))


class ProcessingConfig(_Section):
    """How many files are worked on at once."""

    workers: int = Field(default=2, ge=1, strict=True, description="Files processed in parallel")
    max_workers: int | Literal["auto"] = Field(
        default="auto",
        description='Upper bound for workers: a whole number, or "auto" (half the CPU cores)',
    )
    executor: str = Field(
        default="threads",
        description='Where files are processed: "threads", "processes" or "dask://HOST:PORT"',
    )
    encode_resources: str = Field(
        default="",
        description='Dask resources a file that encodes needs, e.g. "GPU=1" (dask worker '
        '--resources "GPU=1"); other files go to any worker. Empty: every file anywhere',
    )

    @field_validator("encode_resources", mode="after")
    @classmethod
    def _check_encode_resources(cls, value: str) -> str:
        from vpo.batch.resources import parse_resources
        from vpo.errors import ConfigError

        try:
            parse_resources(value)
        except ConfigError:
            raise PydanticCustomError(
                "encode_resources",
                'must be NAME=AMOUNT entries, e.g. "GPU=1" (as dask worker --resources)',
            ) from None
        return value.strip()

    @field_validator("executor", mode="after")
    @classmethod
    def _check_executor(cls, value: str) -> str:
        text = value.strip()
        if text in ("threads", "processes") or (
            text.startswith("dask://") and len(text) > len("dask://")
        ):
            return text
        raise PydanticCustomError(
            "executor", 'must be "threads", "processes" or "dask://HOST:PORT"'
        )

    @field_validator("max_workers", mode="before")
    @classmethod
    def _check_max_workers(cls, value: object) -> int | str:
        if value == "auto":
            return "auto"
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        raise PydanticCustomError("max_workers", 'must be a whole number of at least 1 or "auto"')


class PathsConfig(_Section):
    """How the coordinator's paths read on remote (Dask) workers."""

    map: tuple[str, ...] = Field(
        default=(),
        description='Path maps for remote workers: "FROM=TO", or "WORKER:FROM=TO" for one '
        "worker (Dask worker name or resource tag)",
    )

    @field_validator("map", mode="after")
    @classmethod
    def _check_map(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from vpo.batch.pathmap import PathMap
        from vpo.errors import ConfigError

        try:
            PathMap.parse(value)
        except ConfigError as error:
            raise PydanticCustomError("path_map", str(error)) from None
        return value


class JobsConfig(_Section):
    """How files are rewritten safely."""

    keep_backup: bool = Field(
        default=False,
        strict=True,
        description="Keep the original beside the new file after a rewrite",
    )
    temp_dir: Path | None = Field(
        default=None, description="Directory for temporary output (default: beside the media file)"
    )
    preserve_mtime: bool = Field(
        default=True,
        strict=True,
        description="Give a rewritten file its original modification time",
    )
    stable_seconds: float = Field(
        default=10.0,
        ge=0,
        strict=True,
        allow_inf_nan=False,
        description="A file modified less than this many seconds ago is still growing: skip it",
    )
    replace: Literal["rename", "copy"] = Field(
        default="rename",
        description='How a rewritten file replaces the original: "rename" a new file over '
        'it, or "copy" the output into the original file (keeps its inode, owner, hard '
        "links; a shared library)",
    )
    window: str | None = Field(
        default=None,
        description='Daily run window of vpo serve, "HH:MM-HH:MM": no file starts outside it',
    )
    stop_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        strict=True,
        allow_inf_nan=False,
        description="After SIGTERM or SIGHUP, how long files in progress may take to finish "
        "before their tools are stopped",
    )

    _expand = field_validator("temp_dir", mode="before")(_expand_user)

    @field_validator("window")
    @classmethod
    def _check_window(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from vpo.jobs.window import parse_window  # pure, small; avoids a cycle at import

        try:
            parse_window(value)
        except ValueError as error:
            raise PydanticCustomError("window", str(error)) from None
        return value


class TranscodeConfig(_Section):
    """How long encodes run, where they write, and when their output is kept."""

    stall_seconds: float = Field(
        default=120.0,
        gt=0,
        strict=True,
        allow_inf_nan=False,
        description="An encode that reports no progress for this many seconds is stopped",
    )
    timeout_factor: float = Field(
        default=20.0,
        gt=0,
        strict=True,
        allow_inf_nan=False,
        description=(
            "An encode may run 10 minutes plus this many times the file's duration "
            "before it is stopped"
        ),
    )
    niceness: int = Field(
        default=10,
        ge=0,
        le=19,
        strict=True,
        description="CPU priority of encodes: 0 unchanged, 19 lowest",
    )
    scratch_dir: Path | None = Field(
        default=None,
        description="Directory for encode output before it replaces the original "
        "(default: [jobs] temp_dir, else beside the media file)",
    )
    keep_if_larger: bool = Field(
        default=True,
        strict=True,
        description="Keep an encode that is not smaller than the original (false: "
        "keep the original and report the file skipped)",
    )

    _expand = field_validator("scratch_dir", mode="before")(_expand_user)


class ServerConfig(_Section):
    """The vpo serve daemon: address, access token, shutdown, policies, backups."""

    bind: str = Field(default="127.0.0.1", description="Address vpo serve listens on")
    port: int = Field(default=8321, ge=1, le=65535, strict=True, description="TCP port")
    token: str | None = Field(
        default=None,
        description="Access token (Bearer); required when bind is not a loopback address",
    )
    shutdown_timeout: float = Field(
        default=30.0,
        ge=0,
        strict=True,
        allow_inf_nan=False,
        description="Seconds active files get to finish after SIGTERM before their tools stop",
    )
    policy_dir: Path | None = Field(
        default=None,
        description="Folder of the policies clients may name (default: policies/ by config.toml)",
    )
    backup_keep: int = Field(
        default=7, ge=0, strict=True, description="Daily library backups kept by vpo serve"
    )
    max_body: int = Field(
        default=1_048_576, ge=1024, strict=True, description="Largest request body in bytes"
    )

    _expand = field_validator("policy_dir", mode="before")(_expand_user)


class WatchConfig(_Section):
    """Watched folders of vpo serve: new and changed files are queued once they settle."""

    folders: tuple[str, ...] = Field(
        default=(),
        description='Folders to watch: "DIR" (uses policy) or "DIR=POLICY" (a policy per folder)',
    )
    policy: str | None = Field(
        default=None,
        description="Policy for folders without their own: a name in policy_dir or a path",
    )
    include: tuple[str, ...] = Field(
        default=(),
        description="Only files whose name or relative path matches one of these globs",
    )
    exclude: tuple[str, ...] = Field(
        default=(), description="Files whose name or relative path matches one of these are skipped"
    )
    rescan_seconds: float = Field(
        default=300.0,
        ge=0,
        strict=True,
        allow_inf_nan=False,
        description="Full rescan of the folders this often (shares without events); 0: never",
    )
    polling: bool = Field(
        default=False,
        strict=True,
        description="Poll file times instead of inotify (network shares that send no events)",
    )


class ArrConfig(_Section):
    """A Sonarr or Radarr server: the policy for its hooks, its API, and path maps."""

    policy: str | None = Field(
        default=None,
        description="Policy for files its hooks name: a name in policy_dir or a path",
    )
    url: str | None = Field(default=None, description="Base URL of its web UI and API")
    api_key: str | None = Field(default=None, description="Its API key (Settings > General)")
    path_map: tuple[str, ...] = Field(
        default=(),
        description='Path prefixes it sees mapped to what vpo sees, "THEIRS=OURS" '
        '(e.g. "/movies=/srv/media/films")',
    )


class MediaServerConfig(_Section):
    """A media server told about every file vpo changes (failures are warnings)."""

    url: str | None = Field(default=None, description="Base URL; unset: not told")
    token: str | None = Field(
        default=None, description="Jellyfin/Emby API key, or Plex token (X-Plex-Token)"
    )
    path_map: tuple[str, ...] = Field(
        default=(),
        description='Path prefixes it sees mapped to what vpo sees, "THEIRS=OURS"',
    )


class IntegrationsConfig(_Section):
    """Programs vpo talks to; each is a sub-table, e.g. [integrations.radarr]."""

    sonarr: ArrConfig = Field(default_factory=ArrConfig)
    radarr: ArrConfig = Field(default_factory=ArrConfig)
    jellyfin: MediaServerConfig = Field(default_factory=MediaServerConfig)
    plex: MediaServerConfig = Field(default_factory=MediaServerConfig)


NotifyOn = Literal["job_finished", "job_failed", "file_failed"]


class NotificationsConfig(_Section):
    """Messages when jobs finish or files fail, through apprise URLs; off while urls is empty."""

    urls: tuple[str, ...] = Field(
        default=(),
        description="Apprise URLs to notify (ntfy://, discord://, mailtos://, json://, ...); "
        "empty: no notifications",
    )
    on: tuple[NotifyOn, ...] = Field(
        default=("job_finished",),
        description='When: "job_finished" (every job, with its counts), "job_failed" (a job '
        'with failed files, or that failed), "file_failed" (each failed file at once)',
    )
    timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        strict=True,
        allow_inf_nan=False,
        description="Seconds one message may take per URL (connect and answer) before it is "
        "abandoned with a warning",
    )
    process: bool = Field(
        default=False,
        strict=True,
        description="Also notify for vpo process runs (vpo serve, vpo watch and vpo hook "
        "always do)",
    )

    @field_validator("urls", mode="after")
    @classmethod
    def _check_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = next((url for url in value if "://" not in url), None)
        if bad is not None:
            raise PydanticCustomError("notify_url", f"{bad!r} is not an apprise URL (SCHEME://...)")
        return value


class VPOConfig(_Section):
    """All settings, one section per concern."""

    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    library: LibraryConfig = Field(default_factory=LibraryConfig)
    discovery: DiscoveryConfig = Field(default_factory=DiscoveryConfig)
    processing: ProcessingConfig = Field(default_factory=ProcessingConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    jobs: JobsConfig = Field(default_factory=JobsConfig)
    transcode: TranscodeConfig = Field(default_factory=TranscodeConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    watch: WatchConfig = Field(default_factory=WatchConfig)
    integrations: IntegrationsConfig = Field(default_factory=IntegrationsConfig)
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)


GROUPS: dict[str, type[BaseModel]] = {"integrations": IntegrationsConfig}
"""Sections made only of sub-tables: their sections are named ``group.name``."""


def _sections() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for name, field in VPOConfig.model_fields.items():
        if name in GROUPS:
            for sub, inner in GROUPS[name].model_fields.items():
                found[f"{name}.{sub}"] = inner.annotation  # type: ignore[assignment]
        else:
            found[name] = field.annotation  # type: ignore[assignment]
    return found


SECTIONS: dict[str, type[BaseModel]] = _sections()


def section_of(config: BaseModel, section: str) -> BaseModel:
    """The settings object of a (possibly dotted) section name."""
    found = config
    for part in section.split("."):
        found = getattr(found, part)
    return found
