"""json_text: valid UTF-8 JSON for any file name, readable text, exact round trip."""

from __future__ import annotations

import json
import os

from hypothesis import given
from hypothesis import strategies as st

from vpo.text import json_text


def test_an_undecodable_byte_becomes_a_udcxx_escape_and_text_stays_readable() -> None:
    name = os.fsdecode(b"/films/caf\xe9 \xc3\xa9 \xe6\x98\xa0.mkv")
    text = json_text({"path": name}, indent=None)
    assert text == '{"path": "/films/caf\\udce9 é 映.mkv"}'
    text.encode("utf-8")  # strict: no lone surrogate is left


@given(st.binary(min_size=1, max_size=40))
def test_any_file_name_round_trips_through_valid_utf8_json(raw: bytes) -> None:
    name = os.fsdecode(raw.replace(b"/", b"_").replace(b"\0", b"_"))
    text = json_text([{"path": name}])
    text.encode("utf-8")
    assert os.fsencode(json.loads(text)[0]["path"]) == os.fsencode(name)
