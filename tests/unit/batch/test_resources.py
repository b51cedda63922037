"""``[processing] encode_resources``: parsing and matching (pure)."""

from __future__ import annotations

import pytest

from vpo.batch.resources import describe, offered, parse_resources
from vpo.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("GPU=1", (("GPU", 1.0),)),
        (" VRAM=8, GPU=1 ", (("GPU", 1.0), ("VRAM", 8.0))),
        ("GPU=0.5", (("GPU", 0.5),)),
    ],
)
def test_encode_resources_read_like_dask_worker_resources(
    text: str, expected: tuple[tuple[str, float], ...]
) -> None:
    assert parse_resources(text) == expected


@pytest.mark.parametrize("text", ["GPU", "GPU=", "=1", "GPU=one", "GPU=0", "GPU=-1"])
def test_a_malformed_entry_is_named(text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_resources(text)
    assert str(raised.value) == (
        f"[processing] encode_resources: {text!r} is not NAME=AMOUNT (e.g. GPU=1)"
    )


def test_a_worker_offers_resources_when_it_has_at_least_the_amounts() -> None:
    wanted = parse_resources("GPU=1")
    assert offered(wanted, {"GPU": 1.0})
    assert offered(wanted, {"GPU": 2.0, "VRAM": 8.0})
    assert not offered(wanted, {})
    assert not offered(wanted, {"GPU": 0.5})
    assert offered((), {})
    assert describe(parse_resources("VRAM=8,GPU=1")) == "GPU=1,VRAM=8"
