"""``[notifications]`` end to end: a real ``vpo serve`` / ``vpo hook`` / ``vpo process``,
real tools on generated media, and apprise's ``json://`` URL pointing at a stand-in HTTP
server in the test that records every message it receives."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from helpers.arr import radarr_download
from helpers.daemon import VPO, WAIT, daemon_env, hook, running, wait_job
from helpers.tracks import audio_languages
from vpo.testmedia.http_recorder import Recorder, Request
from vpo.testmedia.policies import ENGLISH_FIRST, FOREIGN_FIRST, ORDER_POLICY

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MediaFactory = Callable[..., Path]


@pytest.fixture
def receiver() -> Iterator[Recorder]:
    """Stands in for a notification service: records each JSON message apprise posts."""
    with Recorder() as server:
        yield server


def apprise_url(server: Recorder) -> str:
    return f"json://127.0.0.1:{server.port}/vpo"


def messages(requests: list[Request]) -> list[dict[str, Any]]:
    bodies = [request.body for request in requests]
    assert all(isinstance(body, dict) for body in bodies), bodies
    return cast(list[dict[str, Any]], bodies)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return daemon_env(tmp_path, roots=tmp_path / "library", policies={"order": ORDER_POLICY})


def broken(path: Path) -> Path:
    """A .mkv that no tool can read: its file fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a matroska file\n" * 50)
    return path


def dead_url() -> str:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return f"json://127.0.0.1:{probe.getsockname()[1]}/vpo"


def test_serve_sends_one_message_per_finished_job_and_one_per_failed_file(
    env: dict[str, str], receiver: Recorder, media_factory: MediaFactory, tmp_path: Path
) -> None:
    first = tmp_path / "library" / "first"
    changing = media_factory(FOREIGN_FIRST, "library/first/changing.mkv")
    media_factory(ENGLISH_FIRST, "library/first/conformant.mkv")
    bad = broken(first / "bad.mkv")
    media_factory(FOREIGN_FIRST, "library/second/other.mkv")
    env["VPO_NOTIFICATIONS_URLS"] = apprise_url(receiver)
    env["VPO_NOTIFICATIONS_ON"] = "job_finished,file_failed"
    with running(env, tmp_path / "serve.log") as daemon:
        with daemon.client() as client:
            ids = []
            for folder in ("first", "second"):
                created = client.post(
                    "/jobs",
                    json={
                        "type": "process",
                        "policy": "order",
                        "paths": [str(first.parent / folder)],
                    },
                )
                assert created.status_code == 201, created.text
                ids.append(created.json()["id"])
            for job_id in ids:
                assert wait_job(client, job_id)["status"] == "completed"
        arrived = messages(receiver.wait_for(3, WAIT))
        assert daemon.stop() == 0
    assert len(messages(receiver.requests)) == 3  # nothing more arrived by the daemon's exit
    file_failed, first_job, second_job = arrived
    assert file_failed["type"] == "failure"
    assert file_failed["title"] == f"vpo: {bad} failed"
    assert str(file_failed["message"]).startswith(f"job {ids[0]}: {bad}: ")
    assert first_job["type"] == "failure"
    assert first_job["title"] == (
        f"vpo: job {ids[0]} (process, policy order) completed: "
        "1 changed, 1 unchanged, 0 skipped, 1 failed"
    )
    lines = str(first_job["message"]).splitlines()
    assert lines[2] == "failed:" and lines[3].startswith(f"- {bad}: ")
    assert second_job["type"] == "info"
    assert second_job["title"] == (
        f"vpo: job {ids[1]} (process, policy order) completed: "
        "1 changed, 0 unchanged, 0 skipped, 0 failed"
    )
    assert changing.exists()


def test_an_unreachable_url_is_one_warning_and_the_hook_still_succeeds(
    env: dict[str, str], media_factory: MediaFactory, tmp_path: Path
) -> None:
    film = media_factory(FOREIGN_FIRST, "library/Film/Film.mkv")
    dead = dead_url()
    env.update(
        {
            "VPO_INTEGRATIONS_RADARR_POLICY": "order",
            "VPO_INTEGRATIONS_RADARR_PATH_MAP": f"/movies={tmp_path / 'library'}",
            "VPO_NOTIFICATIONS_URLS": dead,
        }
    )
    done = hook(env, radarr_download("/movies/Film/Film.mkv"))
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "notification" in line]
    assert warnings == [
        f"vpo hook radarr: notification to {dead} not sent: A Connection error occurred "
        "sending JSON notification to 127.0.0.1: [Errno 111] Connection refused"
    ]
    assert "Traceback" not in done.stderr
    assert "changed" in done.stdout  # the summary: the file was processed all the same
    assert audio_languages(film)[0][0] == "eng"


def test_the_hook_inline_run_is_told_like_a_job(
    env: dict[str, str], receiver: Recorder, media_factory: MediaFactory, tmp_path: Path
) -> None:
    media_factory(FOREIGN_FIRST, "library/Film/Film.mkv")
    env.update(
        {
            "VPO_INTEGRATIONS_RADARR_POLICY": "order",
            "VPO_INTEGRATIONS_RADARR_PATH_MAP": f"/movies={tmp_path / 'library'}",
            "VPO_NOTIFICATIONS_URLS": apprise_url(receiver),
        }
    )
    done = hook(env, radarr_download("/movies/Film/Film.mkv"))
    assert done.returncode == 0, done.stderr
    (message,) = messages(receiver.requests)  # sent before the hook exited
    assert message["title"] == (
        "vpo: vpo hook radarr: Download Film.mkv completed: "
        "1 changed, 0 unchanged, 0 skipped, 0 failed"
    )


def test_vpo_process_notifies_only_when_asked(
    env: dict[str, str], receiver: Recorder, media_factory: MediaFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "library"
    media_factory(ENGLISH_FIRST, "library/ok.mkv")
    bad = broken(folder / "bad.mkv")
    policy = tmp_path / "policies" / "order.yaml"
    env["VPO_NOTIFICATIONS_URLS"] = apprise_url(receiver)
    command = [str(VPO), "process", "-p", str(policy), str(folder)]
    plain = subprocess.run(command, env=env, capture_output=True, timeout=WAIT)
    assert plain.returncode == 1  # some files failed
    assert messages(receiver.requests) == []  # [notifications] process is off by default
    env["VPO_NOTIFICATIONS_PROCESS"] = "true"
    env["VPO_NOTIFICATIONS_ON"] = "job_failed"
    asked = subprocess.run(command, env=env, capture_output=True, timeout=WAIT)
    assert asked.returncode == 1
    (message,) = messages(receiver.requests)
    assert message["title"] == (
        "vpo: vpo process (order.yaml) completed: 0 changed, 1 unchanged, 0 skipped, 1 failed"
    )
    assert f"- {bad}: " in str(message["message"])
