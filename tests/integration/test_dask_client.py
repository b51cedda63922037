"""The Dask client process (vpo.batch.dask_client) on a real cluster on loopback.

The coordinator of ``vpo process --executor dask://…`` never imports Dask: its
client process does, and serves it over a socket. These tests start a ``dask
scheduler`` and ``dask worker`` processes, run the real ``vpo`` command, and
check the client process's faults: it ignores signals and ends when its socket
closes; killed, it fails the files in flight in one line; the scheduler gone
mid-batch ends the batch in one line; it never outlives vpo.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vpo.testmedia.policies import FOREIGN_FIRST

pytest.importorskip("distributed")

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
BIN = Path(sys.executable).parent
VPO = BIN / "vpo"
START_TIMEOUT = 60.0
POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
  on_error: skip
phases:
  - name: order
    track_order: [video, audio_main, audio_alternate]
    default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
"""
# mkvmerge whose writing calls mark $STUB_MARK.<pid> and wait for $STUB_RELEASE.
HELD_MKVMERGE = """#!/bin/sh
case " $* " in *" --version "*|*" -J "*) exec "$REAL_MKVMERGE" "$@" ;; esac
touch "$STUB_MARK.$$"
while [ ! -e "$STUB_RELEASE" ]; do sleep 0.1; done
exec "$REAL_MKVMERGE" "$@"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    address: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def scheduler(self) -> subprocess.Popen[bytes]:
        return self.processes[0]


@contextlib.contextmanager
def cluster(tmp_path: Path, workers: int, env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """A scheduler and ``workers`` one-thread workers (environment ``env``), stopped on exit."""
    port = free_port()
    running = Cluster(f"127.0.0.1:{port}")
    log = (tmp_path / "cluster.log").open("wb")
    common = {"stdout": log, "stderr": subprocess.STDOUT, "start_new_session": True}
    try:
        running.processes.append(
            subprocess.Popen(
                [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                 "--no-dashboard"],
                **common,  # type: ignore[call-overload]
            )
        )  # fmt: skip
        for index in range(workers):
            running.processes.append(
                subprocess.Popen(
                    [str(BIN / "dask"), "worker", f"tcp://{running.address}", "--name",
                     f"w{index}", "--nthreads", "1", "--no-dashboard", "--no-nanny",
                     "--host", "127.0.0.1"],
                    env=dict(os.environ, **(env or {})),
                    **common,  # type: ignore[call-overload]
                )
            )  # fmt: skip
        wait_for_workers(running.address, workers, tmp_path)
        yield running
    finally:
        for process in running.processes:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in running.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for_workers(address: str, count: int, tmp_path: Path) -> None:
    from distributed import Client

    deadline = time.monotonic() + START_TIMEOUT
    with Client(f"tcp://{address}", timeout="30s", set_as_default=False) as client:
        while len(client.scheduler_info(n_workers=-1)["workers"]) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"Dask workers did not start; see {tmp_path / 'cluster.log'}")
            time.sleep(0.2)


def alive(pid: int) -> bool:
    """True while ``pid`` is in the process table and not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def client_processes(parent: int) -> list[int]:
    """The Dask client processes whose parent is ``parent`` (a /proc scan)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == parent and b"vpo.batch.dask_client" in command:
            found.append(int(entry.name))
    return found


def wait_until(check: Callable[[], bool], what: str, vpo: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + 90.0
    while not check():
        assert vpo is None or vpo.poll() is None, f"vpo ended before {what}"
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


@pytest.fixture
def held(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """Worker environment whose mkvmerge holds each write until ``release`` exists."""
    stub_dir = tmp_path / "held-bin"
    stub_dir.mkdir()
    (stub_dir / "mkvmerge").write_text(HELD_MKVMERGE, encoding="utf-8")
    (stub_dir / "mkvmerge").chmod(0o755)
    release = tmp_path / "release"
    env = {
        "PATH": f"{stub_dir}:{os.environ['PATH']}",
        "STUB_MARK": str(tmp_path / "held"),
        "STUB_RELEASE": str(release),
        "REAL_MKVMERGE": str(shutil.which("mkvmerge")),
    }
    return env, release


@pytest.fixture
def batch(media_factory: MediaFactory, tmp_path: Path, isolated_home: Path) -> tuple[Path, Path]:
    """Six files to remux and the policy."""
    for index in range(6):
        media_factory(FOREIGN_FIRST, f"media/f{index}.mkv")
    (isolated_home / ".config" / "vpo" / "config.toml").write_text(
        "[jobs]\nstable_seconds = 0\n", encoding="utf-8"
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return tmp_path / "media", policy


def start_vpo(tmp_path: Path, media: Path, policy: Path, address: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(VPO), "process", "--db", str(tmp_path / "lib.sqlite"), "-p", str(policy),
         "--executor", f"dask://{address}", "--json", str(media)],
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "vpo.log").open("wb"),
    )  # fmt: skip


def both_held(tmp_path: Path) -> bool:
    return len(list(tmp_path.glob("held.*"))) == 2


@contextlib.contextmanager
def vpo_holding_two_files(
    tmp_path: Path, media: Path, policy: Path, address: str, release: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``vpo process`` on the cluster once both workers hold a file; afterwards the
    files are released and vpo is gone, whatever the test did to it."""
    vpo = start_vpo(tmp_path, media, policy, address)
    try:
        wait_until(lambda: both_held(tmp_path), "both workers hold a file", vpo)
        yield vpo
    finally:
        release.touch()
        if vpo.poll() is None:
            vpo.kill()
            vpo.wait()


# Reports the modules the real `vpo` entry point imported (in a fresh interpreter).
_MODULES_DRIVER = """
import json, sys
report, sys.argv = sys.argv[1], ["vpo", *sys.argv[2:]]
import atexit
atexit.register(lambda: json.dump(sorted(sys.modules), open(report, "w")))
from vpo.cli.entry import main
main()
"""


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_coordinator_never_imports_dask(
    batch: tuple[Path, Path], tmp_path: Path, dry_run: bool
) -> None:
    """``import distributed`` (0.4 s of CPU) happens in the client process only."""
    media, policy = batch
    report = tmp_path / "modules.json"
    with cluster(tmp_path, 2) as running:
        done = subprocess.run(
            [sys.executable, "-c", _MODULES_DRIVER, str(report), "process", "--db",
             str(tmp_path / "lib.sqlite"), "-p", str(policy), "--executor",
             f"dask://{running.address}", "--json", *(["--dry-run"] if dry_run else []),
             str(media)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    if not dry_run:
        assert json.loads(done.stdout)["summary"]["changed"] == 6
    modules = json.loads(report.read_text(encoding="utf-8"))
    assert "vpo.batch.dask_executor" in modules  # the run did go through the cluster
    heavy = ("distributed", "dask", "tornado", "msgpack", "cloudpickle")
    assert [m for m in modules if m.split(".")[0] in heavy] == []


def _send(sock: socket.socket, message: tuple[object, ...]) -> None:
    data = marshal.dumps(message)
    sock.sendall(struct.pack("!I", len(data)) + data)


def _receive(sock: socket.socket) -> tuple[object, ...]:
    reader = sock.makefile("rb")
    (size,) = struct.unpack("!I", reader.read(4))
    message = marshal.loads(reader.read(size))
    assert isinstance(message, tuple)
    return message


def test_the_client_process_ignores_signals_and_exits_when_its_socket_closes(
    tmp_path: Path,
) -> None:
    """SIGINT and SIGTERM are the coordinator's to act on; the end of the socket (the
    coordinator closed it, or died) ends the client process."""
    with cluster(tmp_path, 1) as running:
        ours, theirs = socket.socketpair()
        client = subprocess.Popen(
            [sys.executable, "-m", "vpo.batch.dask_client", str(theirs.fileno()),
             running.address, "10"],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        theirs.close()
        try:
            assert _receive(ours) == ("ready",)
            client.send_signal(signal.SIGINT)
            client.send_signal(signal.SIGTERM)
            _send(ours, ("workers", 7))
            kind, number, workers = _receive(ours)
            assert (kind, number) == ("reply", 7)  # still serving after both signals
            assert isinstance(workers, list)
            assert [name for _, name, *_ in workers] == ["w0"]
            assert client.poll() is None
            ours.close()  # no "close" message: only the end of the socket
            assert client.wait(timeout=30) == 0
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()


def test_a_killed_client_process_fails_the_files_in_flight_in_one_line(
    batch: tuple[Path, Path], tmp_path: Path, held: tuple[dict[str, str], Path]
) -> None:
    media, policy = batch
    env, release = held
    with (
        cluster(tmp_path, 2, env) as running,
        vpo_holding_two_files(tmp_path, media, policy, running.address, release) as vpo,
    ):
        (client,) = client_processes(vpo.pid)
        os.kill(client, signal.SIGKILL)
        out, _ = vpo.communicate(timeout=60)  # without the release: nothing waits on it
    log = (tmp_path / "vpo.log").read_text()
    assert vpo.returncode == 1, log  # files failed, on_error: skip
    assert "Traceback" not in log
    results = json.loads(out)
    assert results["summary"]["failed"] == 6
    errors = {item["error"] for item in results["files"]}
    assert errors == {"the Dask client process exited: killed by SIGKILL"}


def test_the_scheduler_gone_mid_batch_ends_the_batch_in_one_line(
    batch: tuple[Path, Path], tmp_path: Path, held: tuple[dict[str, str], Path]
) -> None:
    media, policy = batch
    env, release = held
    with (
        cluster(tmp_path, 2, env) as running,
        vpo_holding_two_files(tmp_path, media, policy, running.address, release) as vpo,
    ):
        running.scheduler.kill()
        out, _ = vpo.communicate(timeout=60)
    log = (tmp_path / "vpo.log").read_text()
    assert vpo.returncode == 1, log
    assert "Traceback" not in log
    results = json.loads(out)
    assert results["summary"]["failed"] == 6
    errors = {item["error"] for item in results["files"]}
    assert errors == {
        f"the Dask scheduler at dask://{running.address} is gone (connection lost); the file "
        "is the original or the finished result"
    }


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_the_client_process_never_outlives_vpo(
    batch: tuple[Path, Path],
    tmp_path: Path,
    held: tuple[dict[str, str], Path],
    signum: signal.Signals,
) -> None:
    """Ctrl-C, SIGTERM (the running files finish) or kill -9 of vpo: no client process
    is left behind."""
    media, policy = batch
    env, release = held
    with (
        cluster(tmp_path, 2, env) as running,
        vpo_holding_two_files(tmp_path, media, policy, running.address, release) as vpo,
    ):
        (client,) = client_processes(vpo.pid)
        vpo.send_signal(signum)
        if signum != signal.SIGKILL:
            said = "Interrupted" if signum == signal.SIGINT else "SIGTERM received"
            wait_until(lambda: said in (tmp_path / "vpo.log").read_text(),
                       "vpo took the signal", vpo)  # fmt: skip
            release.touch()
        vpo.communicate(timeout=60)
        wait_until(lambda: not alive(client), "the client process ended", None)
    if signum != signal.SIGKILL:
        assert vpo.returncode in (130, 143), (tmp_path / "vpo.log").read_text()


def test_a_daemons_jobs_share_one_client_process_restarted_if_it_died(tmp_path: Path) -> None:
    """``open_executor(keep=True)`` (each job of vpo serve) pays ``import distributed``
    once: the next job adopts the same client process, or a new one if it died."""
    from vpo.batch.dask_executor import DaskExecutor
    from vpo.batch.executors import open_executor

    def client_of(executor: object) -> int:
        assert isinstance(executor, DaskExecutor)
        return executor._process.pid

    with cluster(tmp_path, 1) as running:
        spec = f"dask://{running.address}"
        with open_executor(spec, 1, keep=True) as first:
            kept = client_of(first)
            assert first.submit(str.upper, "ok").result(timeout=60) == "OK"
        assert alive(kept)
        with open_executor(spec, 1, keep=True) as second:
            assert client_of(second) == kept
        os.kill(kept, signal.SIGKILL)
        wait_until(lambda: not alive(kept), "the client process died", None)
        with open_executor(spec, 1) as third:  # not kept: closed at the end
            restarted = client_of(third)
            assert restarted != kept
            assert third.submit(str.upper, "again").result(timeout=60) == "AGAIN"
    assert not alive(restarted)
