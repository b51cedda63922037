"""The parent-death signal (PR_SET_PDEATHSIG) fires when the *thread* that forked the
tool ends, so tools must be forked by the long-lived spawner thread, not by the
(possibly short-lived) thread that asked for them. The effect on kill -9 of vpo is
tested in tests/integration/test_process_signals.py."""

from __future__ import annotations

import sys
import threading
import time
from subprocess import Popen

import pytest

from vpo.tools.runner import spawn

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux prctl only")


def test_a_tool_started_from_a_thread_that_ends_keeps_running() -> None:
    started: list[Popen[bytes]] = []
    worker = threading.Thread(target=lambda: started.append(spawn(["sleep", "30"])))
    worker.start()
    worker.join()
    (process,) = started
    try:
        time.sleep(0.2)  # a parent-death signal tied to the ended thread would be here by now
        assert process.poll() is None, "the tool died with the thread that asked for it"
    finally:
        process.kill()
        process.wait()
