"""Notifications: the message text (pure), and apprise sending it over real HTTP to a
stand-in server on loopback (``json://`` URLs), unreachable and silent servers included."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from vpo.config.models import NotificationsConfig
from vpo.errors import ConfigError
from vpo.integrations.notify import (
    Notifier,
    NotifyEvent,
    RunReport,
    file_message,
    run_message,
    run_messages,
)
from vpo.testmedia.http_recorder import Recorder

COUNTS = {"changed": 2, "unchanged": 1, "skipped": 0, "failed": 1}
REPORT = RunReport(
    what="job 7 (process, policy films)",
    end="completed",
    counts=COUNTS,
    failures=(("/media/b.mkv", "mkvmerge failed (exit 2): no space left on device"),),
)


@pytest.fixture
def stand_in() -> Iterator[Recorder]:
    with Recorder() as server:
        yield server


def json_url(server: Recorder) -> str:
    """The apprise URL that posts a JSON message to ``server``'s /notify."""
    return f"json://127.0.0.1:{server.port}/notify"


def notifier(
    *urls: str, on: tuple[str, ...] = ("job_finished",), timeout: float = 5.0
) -> tuple[Notifier, list[str]]:
    warnings: list[str] = []
    settings = NotificationsConfig(urls=urls, on=on, timeout=timeout)  # type: ignore[arg-type]
    made = Notifier.from_config(settings, warn=warnings.append)
    assert made is not None
    return made, warnings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------- text (pure)


def test_a_job_message_has_its_counts_and_first_failures() -> None:
    message = run_message(REPORT)
    assert message.title == (
        "vpo: job 7 (process, policy films) completed: 2 changed, 1 unchanged, 0 skipped, 1 failed"
    )
    assert message.body.splitlines() == [
        "job 7 (process, policy films) completed",
        "files: 2 changed, 1 unchanged, 0 skipped, 1 failed",
        "failed:",
        "- /media/b.mkv: mkvmerge failed (exit 2): no space left on device",
    ]
    assert message.failure


def test_only_the_first_failures_are_named_and_the_rest_counted() -> None:
    failures = tuple((f"/m/{n}.mkv", "probe failed") for n in range(5))
    report = RunReport("vpo process (films.yaml)", "completed", {"failed": 9}, failures)
    lines = run_message(report).body.splitlines()
    assert lines[-2:] == ["- /m/4.mkv: probe failed", "… and 4 more (vpo report shows them all)"]


def test_a_clean_job_is_not_a_failure_and_a_failed_job_says_why() -> None:
    clean = RunReport("job 1 (process)", "completed", {"changed": 1, "failed": 0})
    assert not run_message(clean).failure
    failed = RunReport("job 2 (process)", "failed", {"failed": 0}, reason="on_error: fail")
    assert run_message(failed).failure
    assert run_message(failed).body.startswith("job 2 (process) failed (on_error: fail)")


def test_names_with_control_characters_cannot_forge_lines() -> None:
    message = file_message("job 3", "/m/a\nFAKE.mkv", "bad\rcause")
    assert message.body == "job 3: /m/a\\nFAKE.mkv: bad\\rcause"
    assert "\n" not in message.title


@pytest.mark.parametrize(
    ("on", "clean", "troubled"),
    [
        ({NotifyEvent.JOB_FINISHED}, 1, 1),
        ({NotifyEvent.JOB_FAILED}, 0, 1),
        ({NotifyEvent.FILE_FAILED}, 0, 0),
        (set(), 0, 0),
    ],
)
def test_which_runs_are_told(on: set[NotifyEvent], clean: int, troubled: int) -> None:
    ok = RunReport("job 1 (process)", "completed", {"changed": 1, "failed": 0})
    assert len(run_messages(ok, on)) == clean
    assert len(run_messages(REPORT, on)) == troubled


# ---------------------------------------------------------------- sending (real HTTP)


def test_no_urls_means_no_notifier() -> None:
    assert Notifier.from_config(NotificationsConfig()) is None


def test_a_finished_job_is_one_json_message(stand_in: Recorder) -> None:
    sender, warnings = notifier(json_url(stand_in))
    sender.run_finished(REPORT)
    sender.close()
    (request,) = stand_in.requests
    assert request.path == "/notify"
    body = request.body
    assert isinstance(body, dict)
    assert body["type"] == "failure"
    assert body["title"] == run_message(REPORT).title
    assert "- /media/b.mkv: mkvmerge failed" in str(body["message"])
    assert warnings == []


def test_a_failed_file_is_told_at_once_when_asked(stand_in: Recorder) -> None:
    sender, _ = notifier(json_url(stand_in), on=("file_failed",))
    sender.file_failed("job 4", "/media/c.mkv", "ffprobe failed (exit 1): invalid data")
    (request,) = stand_in.wait_for(1)  # before close: sent from the notifier's own thread
    body = request.body
    assert isinstance(body, dict)
    assert body["title"] == "vpo: /media/c.mkv failed"
    assert body["message"] == "job 4: /media/c.mkv: ffprobe failed (exit 1): invalid data"
    sender.run_finished(REPORT)  # job_finished is not in `on`
    sender.close()
    assert len(stand_in.requests) == 1


def test_the_caller_is_never_kept_waiting(stand_in: Recorder) -> None:
    stand_in.silent = True
    sender, warnings = notifier(json_url(stand_in), timeout=0.5)
    started = time.monotonic()
    sender.run_finished(REPORT)
    assert time.monotonic() - started < 0.2  # queued; the thread waits for the server
    sender.close()
    (warning,) = warnings
    assert warning.startswith("notification to json://127.0.0.1:")
    assert " not sent: " in warning


def test_an_unreachable_url_is_one_warning(stand_in: Recorder) -> None:
    dead = f"json://127.0.0.1:{free_port()}/x"
    sender, warnings = notifier(dead, json_url(stand_in))
    sender.run_finished(REPORT)
    sender.close()
    (warning,) = warnings
    assert warning.startswith(f"notification to json://127.0.0.1:{dead.split(':')[2]}")
    assert "not sent: A Connection error occurred" in warning
    assert len(stand_in.requests) == 1  # the other URL still got it


def test_a_refusing_service_is_one_warning(stand_in: Recorder) -> None:
    stand_in.status = 401
    sender, warnings = notifier(json_url(stand_in))
    sender.run_finished(REPORT)
    sender.close()
    (warning,) = warnings
    assert "not sent: " in warning and "401" in warning


def test_secrets_in_urls_are_masked_in_warnings() -> None:
    sender, warnings = notifier(f"json://user:s3cret@127.0.0.1:{free_port()}/x")
    sender.run_finished(REPORT)
    sender.close()
    (warning,) = warnings
    assert "s3cret" not in warning


def test_a_url_apprise_cannot_use_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"\[notifications\] urls: nosuch://… is not a URL"):
        Notifier.from_config(NotificationsConfig(urls=("nosuch://token@host",)))


def test_a_url_without_a_scheme_is_refused_by_the_configuration() -> None:
    with pytest.raises(ValueError, match="is not an apprise URL"):
        NotificationsConfig(urls=("discord.com/api/webhooks/1/abc",))
