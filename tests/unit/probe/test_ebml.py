"""EBML primitives: known byte vectors from RFC 8794, round trips and the iterators."""

from __future__ import annotations

import io
import itertools
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.probe.ebml import (
    MAX_VINT_VALUE,
    EbmlError,
    EbmlTruncatedError,
    ElementHeader,
    decode_element_id,
    decode_element_size,
    decode_vint,
    element_body,
    encode_element_id,
    encode_element_size,
    encode_vint,
    iter_elements,
    iter_file_elements,
    parse_element_header,
    read_float,
    read_string,
    read_uint,
    vint_length,
)


def element(element_id: int, body: bytes) -> bytes:
    """A tiny EBML writer: ID, shortest size, body."""
    return encode_element_id(element_id) + encode_element_size(len(body)) + body


@pytest.mark.parametrize(
    ("data", "value", "length"),
    [
        (b"\x81", 1, 1),
        (b"\x80", 0, 1),
        (b"\xfe", 126, 1),
        (b"\x40\x01", 1, 2),  # RFC 8794 §4.4: the same value in a longer form
        (b"\x20\x00\x01", 1, 3),
        (b"\x10\x00\x00\x01", 1, 4),
        (b"\x01\x00\x00\x00\x00\x00\x00\x01", 1, 8),
        (b"\x41\x00", 256, 2),
    ],
)
def test_decode_vint_known_vectors(data: bytes, value: int, length: int) -> None:
    assert decode_vint(data) == (value, length)


@pytest.mark.parametrize("data", [b"\xff", b"\x7f\xff", b"\x01\xff\xff\xff\xff\xff\xff\xff"])
def test_all_ones_size_is_unknown(data: bytes) -> None:
    assert decode_element_size(data) == (None, len(data))


def test_all_ones_is_only_unknown_as_a_size() -> None:
    assert decode_vint(b"\xff") == (127, 1)


def test_zero_first_byte_is_not_a_vint() -> None:
    with pytest.raises(EbmlError, match="first byte is 0"):
        decode_vint(b"\x00\x81")


def test_vint_cut_short_is_truncation() -> None:
    with pytest.raises(EbmlTruncatedError):
        decode_vint(b"\x40")
    with pytest.raises(EbmlTruncatedError):
        decode_vint(b"", 0)


def test_element_ids_keep_their_marker() -> None:
    assert decode_element_id(b"\x1a\x45\xdf\xa3\x9f") == (0x1A45DFA3, 4)
    assert decode_element_id(b"\xec") == (0xEC, 1)


def test_element_id_longer_than_four_bytes_is_invalid() -> None:
    with pytest.raises(EbmlError, match="longer than 4"):
        decode_element_id(b"\x08\x00\x00\x00\x01")


@given(st.integers(min_value=0, max_value=MAX_VINT_VALUE))
def test_vint_round_trip_shortest(value: int) -> None:
    encoded = encode_vint(value)
    assert decode_vint(encoded) == (value, len(encoded))
    assert vint_length(encoded[0]) == len(encoded)
    assert decode_element_size(encoded) == (value, len(encoded))


@given(st.integers(min_value=0, max_value=MAX_VINT_VALUE), st.integers(min_value=1, max_value=8))
def test_vint_round_trip_any_width(value: int, width: int) -> None:
    if value >= (1 << (7 * width)) - 1:
        with pytest.raises(ValueError, match="does not fit"):
            encode_vint(value, width)
        return
    encoded = encode_vint(value, width)
    assert len(encoded) == width
    assert decode_element_size(encoded + b"\x00") == (value, width)


@given(st.integers(min_value=1, max_value=8))
def test_unknown_size_round_trip(width: int) -> None:
    assert decode_element_size(encode_element_size(None, width)) == (None, width)


@st.composite
def element_ids(draw: st.DrawFn) -> int:
    """Valid IDs of 1 to 4 bytes (the value bits neither all zero nor all one)."""
    width = draw(st.integers(min_value=1, max_value=4))
    value = draw(st.integers(min_value=1, max_value=(1 << (7 * width)) - 2))
    return (1 << (7 * width)) | value


@given(element_ids())
def test_element_id_round_trip(element_id: int) -> None:
    encoded = encode_element_id(element_id)
    assert decode_element_id(encoded) == (element_id, len(encoded))


def test_encoders_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="out of range"):
        encode_vint(-1)
    with pytest.raises(ValueError, match="out of range"):
        encode_vint(MAX_VINT_VALUE + 1)
    with pytest.raises(ValueError, match="not a valid EBML element ID"):
        encode_element_id(0x7F)  # a marker says 2 bytes, but it is one


children_strategy = st.lists(st.tuples(element_ids(), st.binary(max_size=300)), max_size=12)


@given(children_strategy)
def test_iter_elements_finds_every_child(children: list[tuple[int, bytes]]) -> None:
    data = b"".join(element(element_id, body) for element_id, body in children)
    found = list(iter_elements(data))
    assert [(h.element_id, bytes(element_body(data, h))) for h in found] == children
    offsets = [h.offset for h in found]
    assert offsets == sorted(offsets)
    assert all(h.end == nxt.offset for h, nxt in itertools.pairwise(found))


@given(children_strategy, st.integers(min_value=0, max_value=10_000))
def test_iter_elements_with_base_offset(children: list[tuple[int, bytes]], base: int) -> None:
    data = b"\x00" * 3 + b"".join(element(i, body) for i, body in children)
    found = list(iter_elements(data, 3, base_offset=base))
    assert [bytes(element_body(data, h, base_offset=base)) for h in found] == [
        body for _, body in children
    ]
    if found:
        assert found[0].offset == base + 3


@given(
    st.lists(st.tuples(element_ids(), st.binary(min_size=1, max_size=50)), min_size=1, max_size=6),
    st.data(),
)
def test_iter_elements_reports_truncation(
    children: list[tuple[int, bytes]], data: st.DataObject
) -> None:
    whole = b"".join(element(element_id, body) for element_id, body in children)
    cut = data.draw(st.integers(min_value=1, max_value=len(whole) - 1))
    boundaries = set()
    position = 0
    for element_id, body in children:
        position += len(element(element_id, body))
        boundaries.add(position)
    if cut in boundaries:
        assert len(list(iter_elements(whole[:cut]))) < len(children)
        return
    with pytest.raises(EbmlTruncatedError):
        list(iter_elements(whole[:cut]))


def test_child_overrunning_its_parent_is_corrupt_not_truncated() -> None:
    data = element(0x81, b"abcdef") + b"tail"
    with pytest.raises(EbmlError, match="declares 6 bytes but only 3 remain") as raised:
        list(iter_elements(data, 0, 5))
    assert not isinstance(raised.value, EbmlTruncatedError)


def test_unknown_size_element_is_last_and_runs_to_the_end() -> None:
    data = element(0x81, b"x") + encode_element_id(0x1F43B675) + b"\xff" + b"payload"
    found = list(iter_elements(data))
    assert [h.element_id for h in found] == [0x81, 0x1F43B675]
    assert found[1].data_size is None
    assert found[1].end is None
    assert bytes(element_body(data, found[1])) == b"payload"


def test_parse_element_header_fields() -> None:
    header = parse_element_header(b"\x00\x00" + element(0x4282, b"webm"), 2, base_offset=100)
    assert header == ElementHeader(element_id=0x4282, offset=102, header_size=3, data_size=4)
    assert header.data_offset == 105
    assert header.end == 109


def test_iter_file_elements_skips_bodies() -> None:
    big = b"\x00" * 100_000
    data = element(0xEC, big) + element(0x81, b"ab") + element(0x82, b"")
    stream = io.BytesIO(data)
    found = list(iter_file_elements(stream, 0, len(data)))
    assert [(h.element_id, h.data_size) for h in found] == [(0xEC, 100_000), (0x81, 2), (0x82, 0)]


def test_iter_file_elements_reports_truncation() -> None:
    data = element(0x81, b"abcdef")
    with pytest.raises(EbmlTruncatedError, match="declares 6 bytes but only 3 remain"):
        list(iter_file_elements(io.BytesIO(data[:-3]), 0, len(data) - 3))


def test_iter_file_elements_stops_after_unknown_size() -> None:
    data = (
        element(0x81, b"a")
        + encode_element_id(0x1F43B675)
        + encode_element_size(None, 8)
        + b"z" * 9
    )
    found = list(iter_file_elements(io.BytesIO(data), 0, len(data)))
    assert [h.data_size for h in found] == [1, None]


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b"", 0),
        (b"\x01", 1),
        (b"\x00\x01", 1),
        (b"\xff" * 8, 2**64 - 1),
        (b"\x0f\x42\x40", 1_000_000),
    ],
)
def test_read_uint(body: bytes, value: int) -> None:
    assert read_uint(body) == value


def test_read_uint_longer_than_eight_bytes_is_corrupt() -> None:
    with pytest.raises(EbmlError, match="9 bytes"):
        read_uint(b"\x00" * 9)


@given(st.floats(allow_nan=False, width=32))
def test_read_float_single(value: float) -> None:
    assert read_float(struct.pack(">f", value)) == value


@given(st.floats(allow_nan=False))
def test_read_float_double(value: float) -> None:
    assert read_float(struct.pack(">d", value)) == value


def test_read_float_sizes() -> None:
    assert read_float(b"") == 0.0
    with pytest.raises(EbmlError, match="3 bytes"):
        read_float(b"abc")


def test_read_string_drops_nul_padding_and_keeps_unicode() -> None:
    assert read_string("Français ✓".encode() + b"\x00\x00") == "Français ✓"
    assert read_string(b"") == ""
    assert read_string(b"bad \xff byte") == "bad \ufffd byte"
