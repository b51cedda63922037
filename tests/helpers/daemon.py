"""A real vpo daemon for integration tests: ``vpo serve`` on a free loopback port, or ``vpo watch``.

``daemon_env`` is the environment the daemon tests give ``vpo serve`` / ``vpo watch`` /
``vpo hook``: the test's own library database, backups off, its policies in a folder.
``running`` starts the daemon, waits for its announce line and, on leaving the block,
stops it: after a block that succeeded the daemon must have exited 0 (stopped with
SIGTERM if it still runs); after a failure it is stopped (killed if SIGTERM is not
enough) and its stderr and log are printed, so pytest shows them with the failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

VPO = Path(sys.executable).with_name("vpo")
WAIT = 60.0


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    command: str  # "vpo serve" or "vpo watch"
    address: str  # http://127.0.0.1:PORT; "" for vpo watch
    log: Path
    wait: float = WAIT

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.address}/api/v1", timeout=self.wait)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def results(self, path: Path) -> list[str]:
        """Statuses of every file result the runner logged for ``path`` (``job N file P: S``)."""
        return re.findall(rf"job \d+ file {re.escape(str(path))}: (\w+)", self.text())

    def wait_for(self, what: Callable[[], bool], label: str) -> None:
        deadline = time.monotonic() + self.wait
        while not what():
            assert self.process.poll() is None, f"{self.command} died: {self.text()}"
            assert time.monotonic() < deadline, f"timed out waiting for {label}:\n{self.text()}"
            time.sleep(0.05)

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(self.wait)


def daemon_env(
    tmp: Path,
    *,
    roots: Path | None = None,
    policies: Mapping[str, str] | None = None,
    workers: int = 1,
    stable_seconds: int = 0,
    **settings: str,
) -> dict[str, str]:
    """This process's environment without Radarr's and Sonarr's variables, and the daemon's.

    The library database is ``tmp/lib.db``, backups are off; ``roots`` (created) is the
    library root; ``policies`` (name → YAML) are written to ``tmp/policies``, the server's
    policy folder; ``settings`` are more ``VPO_*`` variables. VPO_CONFIG stays the empty
    config the ``isolated_home`` fixture made: every other setting at its default.
    """
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith(("radarr_", "sonarr_"))}
    env.update(
        {
            "VPO_LIBRARY_DATABASE": str(tmp / "lib.db"),
            "VPO_SERVER_BACKUP_KEEP": "0",
            "VPO_JOBS_STABLE_SECONDS": str(stable_seconds),
            "VPO_PROCESSING_WORKERS": str(workers),
        }
    )
    if roots is not None:
        roots.mkdir(parents=True, exist_ok=True)
        env["VPO_LIBRARY_ROOTS"] = str(roots)
    if policies is not None:
        folder = tmp / "policies"
        folder.mkdir(exist_ok=True)
        for name, text in policies.items():
            (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
        env["VPO_SERVER_POLICY_DIR"] = str(folder)
    env.update(settings)
    return env


@contextlib.contextmanager
def running(
    env: Mapping[str, str],
    log: Path,
    *args: str | Path,
    ready: str = "listening on",
    wait: float = WAIT,
) -> Iterator[Daemon]:
    """``vpo serve --port 0`` (or ``vpo *args``) logging to ``log``, once it announced ``ready``."""
    argv = [str(arg) for arg in (args or ("serve", "--port", "0"))]
    command = f"vpo {argv[0]}"
    process = subprocess.Popen(
        [str(VPO), *argv, "--log-file", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(env),
    )
    assert process.stderr is not None
    try:
        line = process.stderr.readline().decode()  # the one announce line
        assert ready in line, f"{command} did not start: {line}"
        address = line.rsplit(" ", 1)[1].strip() if ready == "listening on" else ""
        daemon = Daemon(process, command, address, log, wait)
        yield daemon
    except BaseException:
        _end(process)
        print(f"--- {command}:\n{_report(process, log)}", file=sys.stderr)
        raise
    else:
        code = process.returncode if process.poll() is not None else daemon.stop()
        assert code == 0, f"{command} exited {code}:\n{_report(process, log)}"
    finally:
        _end(process)
        process.stderr.close()


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _report(process: subprocess.Popen[bytes], log: Path) -> str:
    """What the ended daemon wrote: its stderr after the announce line, then its log."""
    assert process.stderr is not None
    if process.poll() is None:  # reading would wait for its end
        stderr = "(not read: it still runs)"
    else:
        stderr = process.stderr.read().decode(errors="replace") if not process.stderr.closed else ""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else "(no log)"
    return f"stderr:\n{stderr}\nlog {log}:\n{text}"


def hook(
    env: Mapping[str, str], variables: Mapping[str, str], arr: str = "radarr"
) -> subprocess.CompletedProcess[str]:
    """``vpo hook radarr|sonarr`` as Radarr/Sonarr run it: only environment variables."""
    return subprocess.run(
        [str(VPO), "hook", arr],
        env={**env, **variables},
        capture_output=True,
        text=True,
        timeout=WAIT,
        stdin=subprocess.DEVNULL,
    )


def wait_job(client: httpx.Client, job_id: int, wait: float = WAIT) -> dict[str, object]:
    """The job once it has ended (completed, failed or interrupted)."""
    deadline = time.monotonic() + wait
    while True:
        job: dict[str, object] = client.get(f"/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "interrupted"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
