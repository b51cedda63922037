"""Worker count resolution: request, cap, override, unknown CPU count, file count."""

from __future__ import annotations

import pytest

from vpo.batch.workers import default_worker_cap, resolve_worker_count


@pytest.mark.parametrize(
    ("cpu_count", "cap"),
    [(None, 1), (0, 1), (1, 1), (2, 1), (3, 1), (4, 2), (8, 4), (64, 32)],
)
def test_default_cap_is_half_the_cores_and_at_least_one(cpu_count: int | None, cap: int) -> None:
    assert default_worker_cap(cpu_count) == cap


def test_request_within_cap_is_kept_without_warning() -> None:
    decision = resolve_worker_count(2, max_workers="auto", cpu_count=8)
    assert (decision.effective, decision.warning) == (2, None)


def test_request_above_cap_is_capped_with_warning_naming_both_values_and_the_override() -> None:
    decision = resolve_worker_count(8, max_workers="auto", cpu_count=4)
    assert decision.effective == 2
    assert decision.warning is not None
    assert "2 workers instead of 8" in decision.warning
    assert "max_workers" in decision.warning


def test_explicit_max_workers_lifts_the_cap() -> None:
    decision = resolve_worker_count(8, max_workers=16, cpu_count=2)
    assert (decision.effective, decision.warning) == (8, None)


def test_explicit_max_workers_can_also_lower_it() -> None:
    decision = resolve_worker_count(4, max_workers=3, cpu_count=64)
    assert decision.effective == 3
    assert decision.warning is not None
    assert "processing.max_workers" in decision.warning


def test_unknown_cpu_count_assumes_two_cores() -> None:
    assert resolve_worker_count(4, max_workers="auto", cpu_count=None).effective == 1


def test_never_more_workers_than_files() -> None:
    assert resolve_worker_count(4, max_workers=8, cpu_count=8, file_count=3).effective == 3
    assert resolve_worker_count(4, max_workers=8, cpu_count=8, file_count=0).effective == 4


def test_zero_workers_rejected() -> None:
    with pytest.raises(ValueError, match="at least 1, got 0"):
        resolve_worker_count(0, max_workers="auto", cpu_count=4)
