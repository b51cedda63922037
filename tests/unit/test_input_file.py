"""read_input_file: only regular files within the limit are read; nothing blocks."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from vpo.input_file import InputRefused, describe_size, read_input_file


def test_reads_a_regular_file_up_to_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"x" * 100)
    assert read_input_file(path, 100, "policy file") == b"x" * 100


def test_refuses_a_file_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"x" * 101)
    with pytest.raises(InputRefused) as refused:
        read_input_file(path, 100, "policy file")
    assert refused.value.reason == "is 101 bytes; a policy file may be at most 100 bytes"


def test_follows_a_symlink_to_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_bytes(b"ok")
    (tmp_path / "link.yaml").symlink_to("real.yaml")
    assert read_input_file(tmp_path / "link.yaml", 10, "policy file") == b"ok"


def test_a_fifo_without_a_writer_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    with pytest.raises(InputRefused, match=r"^is a FIFO \(named pipe\); a policy file must be"):
        read_input_file(path, 100, "policy file")


def test_devices_and_sockets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputRefused, match=r"^is a character device; a config file must be"):
        read_input_file(Path("/dev/zero"), 100, "config file")
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(InputRefused, match=r"^is a socket;"):
            read_input_file(path, 100, "config file")


def test_directories_and_missing_files_raise_like_read_bytes(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        read_input_file(tmp_path, 100, "policy file")
    with pytest.raises(FileNotFoundError):
        read_input_file(tmp_path / "missing", 100, "policy file")


@pytest.mark.parametrize(
    ("size", "text"),
    [(100, "100 bytes"), (1 << 20, "1 MiB"), (256 << 10, "256 KiB"), (10_000_000, "9.5 MiB")],
)
def test_describe_size(size: int, text: str) -> None:
    assert describe_size(size) == text
