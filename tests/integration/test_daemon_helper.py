"""tests/helpers/daemon.py's ``running``: the daemon never outlives its block, a failure
shows what the daemon wrote, and a daemon that ends badly fails the block that used it."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.daemon import WAIT, daemon_env, running
from vpo.testmedia.policies import ORDER_POLICY

pytestmark = pytest.mark.integration


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return daemon_env(tmp_path, roots=tmp_path / "library", policies={"order": ORDER_POLICY})


def test_a_block_that_succeeds_leaves_a_daemon_stopped_with_exit_0(
    env: dict[str, str], tmp_path: Path
) -> None:
    with running(env, tmp_path / "serve.log") as daemon:
        assert daemon.address.startswith("http://127.0.0.1:")
        with daemon.client() as client:
            assert client.get("/health").json()["status"] == "ok"
    assert daemon.process.returncode == 0


def test_a_failing_block_stops_the_daemon_and_prints_its_stderr_and_log(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "serve.log"
    with pytest.raises(AssertionError, match="the test failed"), running(env, log) as daemon:
        raise AssertionError("the test failed")
    assert daemon.process.poll() is not None  # not left running
    printed = capsys.readouterr().err
    assert printed.startswith("--- vpo serve:\nstderr:\n")
    assert f"\nlog {log}:\n{log.read_text(encoding='utf-8')}" in printed
    assert log.read_text(encoding="utf-8")  # the log was there to show


def test_a_daemon_that_exits_badly_fails_the_block(env: dict[str, str], tmp_path: Path) -> None:
    bad_policy = tmp_path / "bad.yaml"
    bad_policy.write_text("schema_version: 12\nphases: nope\n", encoding="utf-8")
    watching = running(
        env, tmp_path / "watch.log", "watch", tmp_path / "library", "-p", bad_policy, ready=""
    )  # vpo watch refuses the policy with one line and exits 2: ready on any line
    with (
        pytest.raises(AssertionError, match=r"^vpo watch exited 2:\nstderr:\n"),
        watching as daemon,
    ):
        daemon.process.wait(WAIT)  # it ended by itself, inside a block that went well


def test_an_interrupted_block_stops_the_daemon_too(env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), running(env, tmp_path / "serve.log") as daemon:
        raise KeyboardInterrupt
    assert daemon.process.returncode is not None
