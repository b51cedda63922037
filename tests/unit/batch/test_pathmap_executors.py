"""[paths] map translation and the executor choice (no cluster needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vpo.batch.executors import ExecutorError, describe, open_executor
from vpo.batch.pathmap import PathMap, reverse, translate
from vpo.errors import ConfigError


def test_the_longest_prefix_wins_and_a_workers_own_entries_come_first() -> None:
    rules = PathMap.parse(["/srv/media=/mnt/media", "/srv/media/tv=/mnt/tv", "gpu1:/srv=/data"])
    shared = rules.for_worker(["cpu1"])
    assert translate("/srv/media/tv/a.mkv", shared) == "/mnt/tv/a.mkv"
    assert translate("/srv/media/b.mkv", shared) == "/mnt/media/b.mkv"
    assert translate("/srv/mediax/b.mkv", shared) == "/srv/mediax/b.mkv"  # not a prefix match
    own = rules.for_worker(["gpu1"])
    assert translate("/srv/media/b.mkv", own) == "/data/media/b.mkv"
    assert translate(translate("/srv/media/b.mkv", shared), reverse(shared)) == "/srv/media/b.mkv"


@pytest.mark.parametrize("entry", ["srv=/mnt", "/srv", "w:/srv=mnt", ":/a=/b"])
def test_a_malformed_map_entry_is_named(entry: str) -> None:
    with pytest.raises(ConfigError, match="paths\\] map"):
        PathMap.parse([entry])


def test_an_unknown_executor_is_refused_in_one_line() -> None:
    assert describe(" threads ") == "threads"
    assert describe("dask://h:8786") == "dask://h:8786"
    with pytest.raises(ExecutorError, match='not "threads", "processes" or dask://HOST:PORT'):
        describe("ray://h")


@pytest.mark.parametrize("spec", ["dask://nas", "dask://nas:port", "dask://nas:0", "dask://:8786"])
def test_a_dask_address_without_a_port_is_refused_before_anything_starts(spec: str) -> None:
    with pytest.raises(ExecutorError, match=r"has no port: dask://HOST:PORT"):
        describe(spec)


@pytest.mark.parametrize("spec", ["dask://tcp://10.0.0.2:8786", "dask://[::1]:8786"])
def test_a_dask_address_may_name_its_protocol_or_an_ipv6_host(spec: str) -> None:
    assert describe(spec) == spec


def test_without_distributed_a_dask_executor_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "vpo.batch.dask_executor", None)  # import fails
    with (
        pytest.raises(ExecutorError) as raised,
        open_executor("dask://127.0.0.1:8786", 1),
    ):
        pass
    assert str(raised.value) == (
        "--executor dask://127.0.0.1:8786 needs dask.distributed: pip install 'vpo[dask]'"
    )


def test_threads_and_processes_run_the_work(tmp_path: Path) -> None:
    for spec in ("threads", "processes"):
        with open_executor(spec, 1) as executor:
            assert executor.submit(str.upper, "ok").result() == "OK"
