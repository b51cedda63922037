"""examples/systemd/vpo.service: a user unit that lets vpo shut down safely."""

from __future__ import annotations

import configparser
from pathlib import Path

from vpo.config.models import ServerConfig

UNIT = Path(__file__).resolve().parents[3] / "examples" / "systemd" / "vpo.service"


def test_the_unit_runs_vpo_serve_and_gives_it_time_to_stop() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(UNIT, encoding="utf-8")
    service = unit["Service"]
    assert service["ExecStart"].split()[1:3] == ["serve", "--log-format"]
    assert service["KillSignal"] == "SIGTERM"
    assert service["KillMode"] == "mixed"  # the tools must not get SIGTERM from systemd
    assert float(service["TimeoutStopSec"]) > ServerConfig().shutdown_timeout
    assert unit["Install"]["WantedBy"] == "default.target"  # a user unit
