"""``--json`` with a file name that is not UTF-8: stdout is valid UTF-8 JSON, and the
name comes back byte for byte through the documented ``\\udcXX`` escapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vpo.testmedia.policies import FOREIGN_FIRST, ORDER_POLICY

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
VPO = Path(sys.executable).with_name("vpo")
RAW_NAME = b"caf\xe9 \xff-film.mkv"  # Latin-1 é and a stray byte: not UTF-8


@pytest.fixture
def odd_file(media_factory: MediaFactory, tmp_path: Path) -> Path:
    made = media_factory(FOREIGN_FIRST, "media/plain.mkv")
    target = made.parent / os.fsdecode(RAW_NAME)
    made.rename(target)
    (tmp_path / "policy.yaml").write_text(ORDER_POLICY, encoding="utf-8")
    return target


def run_json(tmp_path: Path, *args: str | Path) -> Any:
    env = {**os.environ, "VPO_JOBS_STABLE_SECONDS": "0"}
    done = subprocess.run(
        [str(VPO), *map(os.fsencode, args)], capture_output=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    text = done.stdout.decode("utf-8")  # strict: raw non-UTF-8 bytes fail here
    return json.loads(text)


def paths_in(document: Any) -> list[bytes]:
    """Every value of a "path" key anywhere in the document, as bytes."""
    found: list[bytes] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "path" and isinstance(value, str):
                found.append(os.fsencode(value))
            else:
                found.extend(paths_in(value))
    elif isinstance(document, list):
        for item in document:
            found.extend(paths_in(item))
    return found


def test_every_json_output_is_valid_and_round_trips_a_non_utf8_name(
    odd_file: Path, tmp_path: Path
) -> None:
    db = tmp_path / os.fsdecode(b"lib\xff.db")  # scan's JSON names only its database
    policy = tmp_path / "policy.yaml"
    outputs = {
        "inspect": run_json(tmp_path, "inspect", "--json", odd_file),
        "scan": run_json(tmp_path, "scan", "--json", "--db", db, odd_file.parent),
        "dry-run": run_json(
            tmp_path, "process", "--dry-run", "--json", "--db", db, "-p", policy, odd_file.parent
        ),
        "process": run_json(
            tmp_path, "process", "--json", "--db", db, "-p", policy, odd_file.parent
        ),
        "report": run_json(tmp_path, "report", "files", "--json", "--db", db),
    }
    assert os.fsencode(outputs.pop("scan")["database"]) == os.fsencode(db)
    for command, document in outputs.items():
        names = {path.rpartition(b"/")[2] for path in paths_in(document)}
        assert RAW_NAME in names, (command, names)
