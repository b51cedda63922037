"""docs/configuration.md must describe every key the models define."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpo.config.keys import ALL_KEYS, ConfigKey
from vpo.config.models import SECTIONS

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


@pytest.mark.parametrize("key", ALL_KEYS, ids=lambda key: key.dotted)
def test_every_key_has_a_row_with_its_environment_variable(key: ConfigKey) -> None:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    assert any(row.startswith(f"| `{key.name}` |") and f"`{key.env_var}`" in row for row in rows), (
        key.dotted
    )


def test_every_section_has_a_heading() -> None:
    text = DOC.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f"### `[{section}]`" in text
