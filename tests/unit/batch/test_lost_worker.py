"""A file whose Dask workers all died under it: one line, not ``internal error: KilledWorker``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from vpo.batch.runner import internal_error, lost_worker_error
from vpo.workflow.result import FileStatus

scheduler = pytest.importorskip("distributed.scheduler")


def killed(allowed_failures: int, name: str | None = "pc2") -> BaseException:
    last = SimpleNamespace(name=name, address="tcp://192.0.2.7:40001")
    error: BaseException = scheduler.KilledWorker("RemoteWork-1f2e", last, allowed_failures)
    return error


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (
            1,
            "the worker died twice while this file was assigned to it "
            "(retried once on another worker)",
        ),
        (0, "the worker died once while this file was assigned to it"),
        (
            2,
            "the worker died 3 times while this file was assigned to it "
            "(retried twice on another worker)",
        ),
    ],
)
def test_a_killed_worker_reads_as_one_line_with_the_tries(allowed: int, expected: str) -> None:
    result = internal_error(Path("/srv/a.mkv"), killed(allowed))
    assert result.status is FileStatus.FAILED
    assert result.error == (
        f"{expected}, last on pc2; the file is the original or the finished result"
    )
    assert "\n" not in result.error
    assert "KilledWorker" not in result.error


def test_the_last_worker_is_named_by_its_address_when_it_has_no_name() -> None:
    text = lost_worker_error(killed(1, name=None))
    assert text is not None
    assert ", last on tcp://192.0.2.7:40001;" in text


def test_any_other_error_stays_an_internal_error() -> None:
    result = internal_error(Path("/srv/a.mkv"), ValueError("boom"))
    assert result.error == "internal error: ValueError: boom"
    assert lost_worker_error(KeyError("KilledWorker")) is None
