"""vpo ends without tearing the interpreter down (vpo.cli.entry), and loses nothing
by it: the command's exit code, every byte it wrote to a pipe, and every other
``atexit`` handler (logging, temp directories, Dask's client) still come out.

Each case runs the real entry point in a fresh interpreter, as the ``vpo`` console
script does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

# An object freed only by the module teardown says so on stderr.
_TEARDOWN_DRIVER = """
import sys
sys.argv = ["vpo", *sys.argv[1:]]
class Witness:
    def __del__(self):
        sys.stderr.write("torn down\\n")
import vpo
vpo.witness = Witness()
from vpo.cli.entry import main
main()
"""

# The command is replaced by one that writes a lot to a buffered pipe, registers its
# own exit handler (as logging and tempfile do once imported) and exits 3.
_HANDLERS_DRIVER = """
import atexit, sys
marker = sys.argv[1]
sys.argv = ["vpo"]
import vpo.cli.main
def command():
    atexit.register(lambda: open(marker, "w").write("ran"))
    for _ in range(10_000):
        sys.stdout.write("x" * 99 + "\\n")  # the last lines sit in the buffer
    sys.exit(3)
vpo.cli.main.main = command
from vpo.cli.entry import main
main()
"""


def _run(driver: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", driver, *args],
        capture_output=True,
        timeout=60,
        check=False,
        env=buffered,  # stdout block-buffered, as for a user's pipe
    )


@pytest.mark.parametrize(("args", "code"), [(["--version"], 0), (["no-such-command"], 2)])
def test_the_process_ends_with_the_commands_code_and_no_teardown(
    args: list[str], code: int
) -> None:
    done = _run(_TEARDOWN_DRIVER, *args)
    assert done.returncode == code, done.stderr
    assert b"torn down" not in done.stderr
    if code == 0:
        assert done.stdout.startswith(b"vpo, version ")


def test_buffered_output_and_other_exit_handlers_survive_the_fast_exit(tmp_path: Path) -> None:
    marker = tmp_path / "handler-ran"
    done = _run(_HANDLERS_DRIVER, str(marker))
    assert done.returncode == 3, done.stderr
    assert done.stdout == (b"x" * 99 + b"\n") * 10_000
    assert marker.read_text() == "ran"


# A handler registered before vpo's own would run after it: vpo then exits the usual way.
_EARLIER_HANDLER_DRIVER = """
import atexit, sys
marker = sys.argv[1]
sys.argv = ["vpo", "--version"]
atexit.register(lambda: open(marker, "w").write("ran"))
from vpo.cli.entry import main
main()
"""


def test_a_handler_registered_before_vpo_still_runs(tmp_path: Path) -> None:
    marker = tmp_path / "handler-ran"
    done = _run(_EARLIER_HANDLER_DRIVER, str(marker))
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "ran"
