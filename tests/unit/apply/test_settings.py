from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from vpo.apply.settings import ApplySettings
from vpo.tools.tool_timeouts import ToolTimeouts


@dataclass(frozen=True)
class Jobs:
    keep_backup: bool = True
    temp_dir: Path | None = Path("/fast")
    preserve_mtime: bool = False
    stable_seconds: float = 3.5
    replace: str = "copy"


def test_settings_come_from_the_jobs_section() -> None:
    settings = ApplySettings.from_jobs_config(Jobs())
    assert settings.keep_backup
    assert settings.temp_dir == Path("/fast")
    assert not settings.preserve_mtime
    assert settings.stable_seconds == 3.5
    assert settings.copy_back


def test_settings_accept_the_real_config_model() -> None:
    models = pytest.importorskip("vpo.config.models")
    jobs = models.JobsConfig()
    settings = ApplySettings.from_jobs_config(jobs)
    assert settings.stable_seconds == jobs.stable_seconds
    assert jobs.replace == "rename"
    assert not settings.copy_back


def test_rewrite_timeouts_scale_with_size() -> None:
    timeouts = ToolTimeouts(floor=60, per_gib=120)
    assert timeouts.for_rewrite(0) == 60
    assert timeouts.for_rewrite(10 * 1024**3) == pytest.approx(1260)
    assert timeouts.for_header_edit() == timeouts.header_edit
