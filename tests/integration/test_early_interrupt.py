"""Ctrl-C in the first tenth of a second of ``vpo``: one line, exit 130, no traceback.

SIGINT is sent at 20 delays spread over the time one whole (dry) run takes (about
0.1 s on an idle machine), twice each. A run may end
before any vpo code ran (the interpreter's own start-up: killed by SIGINT with no
output, a "Fatal Python error" from site, or a KeyboardInterrupt whose traceback
holds only the launcher script and frozen import frames): vpo cannot act there
and those runs are only counted. Any traceback with a frame of a real module file
(vpo's or a library it imports) fails the test.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vpo.errors import ExitCode

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VPO = Path(sys.executable).with_name("vpo")
FRAME = re.compile(r'File "([^"]+)"')


def before_vpo_code(returncode: int, stderr: str) -> bool:
    if returncode == -signal.SIGINT and not stderr:
        return True
    if "Fatal Python error" in stderr:
        return True
    files = FRAME.findall(stderr)
    return bool(files) and all(f.startswith("<frozen ") or f == str(VPO) for f in files)


def test_ctrl_c_right_after_start_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("schema_version: 12\nphases:\n  - name: p\n", encoding="utf-8")
    argv = [str(VPO), "process", "--dry-run", "-p", str(policy), "--db", str(tmp_path / "db")]
    started = time.monotonic()
    whole = subprocess.run([*argv, str(tmp_path)], capture_output=True, check=False)
    assert whole.returncode == ExitCode.OK, whole.stderr
    # The start-up takes ~0.1 s on an idle machine and much longer on a loaded one:
    # spread the signals over the time a whole run takes here and now.
    seconds = time.monotonic() - started
    quiet = startup = finished = 0
    for step in [*range(20)] * 2:
        delay = seconds * step / 20
        delay_ms = round(delay * 1000)
        process = subprocess.Popen(
            [*argv, str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ
        )
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        stderr = err.decode(errors="replace")
        if process.returncode == ExitCode.OK:
            finished += 1  # done before the signal
        elif before_vpo_code(process.returncode, stderr):
            startup += 1
        else:
            assert "Traceback" not in stderr, f"after {delay_ms} ms:\n{stderr}"
            assert process.returncode == ExitCode.INTERRUPTED, stderr
            assert stderr.strip().endswith("vpo: interrupted"), stderr
            quiet += 1
    assert quiet >= 10, (quiet, startup, finished)  # many signals did land in vpo's code
