"""--log-format json / --log-file: one JSON object per line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from vpo.server.logs import configure


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    logger = logging.getLogger("vpo")
    handlers, level, propagate = logger.handlers[:], logger.level, logger.propagate
    yield
    for handler in logger.handlers:
        handler.close()
    logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


def test_json_lines_in_a_file(tmp_path: Path) -> None:
    log_file = tmp_path / "vpo.log"
    configure("json", log_file)
    logging.getLogger("vpo.jobs").info("job %d started: %s", 3, "scan /m\u00e9dia")
    (line,) = log_file.read_text(encoding="utf-8").splitlines()
    document = json.loads(line)
    assert (document["level"], document["logger"], document["message"]) == (
        "info",
        "vpo.jobs",
        "job 3 started: scan /m\u00e9dia",
    )
    assert document["time"].endswith("Z")


def test_text_lines(tmp_path: Path) -> None:
    log_file = tmp_path / "vpo.log"
    configure("text", log_file)
    logging.getLogger("vpo.server").warning("refused path from %s", "1.2.3.4")
    assert (
        log_file.read_text(encoding="utf-8")
        .rstrip()
        .endswith("WARNING vpo.server: refused path from 1.2.3.4")
    )
