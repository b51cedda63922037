"""EBML primitives: variable-length integers, element headers, element iteration.

Matroska and WebM are EBML documents: every element is an ID, a size and a
body, where ID and size are variable-length integers ("vints"). These
functions know nothing about Matroska; they decode bytes already in memory
(pure) or element headers from a binary file object the caller opened, and
raise EbmlError for malformed data so the caller can name the file.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

MAX_ID_LENGTH = 4
MAX_SIZE_LENGTH = 8
MAX_HEADER_LENGTH = MAX_ID_LENGTH + MAX_SIZE_LENGTH
MAX_VINT_VALUE = (1 << 56) - 2
"""Largest value an 8-byte vint can carry (all ones is reserved for "unknown")."""

Buffer = bytes | bytearray | memoryview


class EbmlError(ValueError):
    """Bytes that are not well-formed EBML; the message says where."""


class EbmlTruncatedError(EbmlError):
    """The data ends inside an element header or body."""


def vint_length(first_byte: int) -> int:
    """Length in bytes of the vint starting with ``first_byte`` (its leading zero bits + 1)."""
    if first_byte == 0:
        raise EbmlError("invalid variable-length integer (first byte is 0)")
    return 9 - first_byte.bit_length()


# Lookup tables for the hot path of parse_element_header (0 = invalid first byte).
_LENGTHS = (0, *(9 - first.bit_length() for first in range(1, 256)))
_VALUE_MASKS = tuple((1 << (7 * length)) - 1 for length in range(9))


def decode_vint(data: Buffer, pos: int = 0) -> tuple[int, int]:
    """Decode the vint at ``data[pos]``: ``(value without the length marker, length)``."""
    if pos >= len(data):
        raise EbmlTruncatedError(f"data ends before the variable-length integer at byte {pos}")
    length = vint_length(data[pos])
    if pos + length > len(data):
        raise EbmlTruncatedError(f"data ends inside the variable-length integer at byte {pos}")
    value = data[pos] & (0xFF >> length)
    for index in range(pos + 1, pos + length):
        value = (value << 8) | data[index]
    return value, length


def decode_element_size(data: Buffer, pos: int = 0) -> tuple[int | None, int]:
    """Decode an element data size; ``None`` for the reserved "unknown size" (all ones)."""
    value, length = decode_vint(data, pos)
    if value == (1 << (7 * length)) - 1:
        return None, length
    return value, length


def decode_element_id(data: Buffer, pos: int = 0) -> tuple[int, int]:
    """Decode an element ID, keeping its length marker as the specs write IDs (``0x1A45DFA3``)."""
    if pos >= len(data):
        raise EbmlTruncatedError(f"data ends before the element ID at byte {pos}")
    length = vint_length(data[pos])
    if length > MAX_ID_LENGTH:
        raise EbmlError(f"invalid element ID at byte {pos} (longer than {MAX_ID_LENGTH} bytes)")
    if pos + length > len(data):
        raise EbmlTruncatedError(f"data ends inside the element ID at byte {pos}")
    return int.from_bytes(data[pos : pos + length], "big"), length


def encode_vint(value: int, length: int | None = None) -> bytes:
    """Encode ``value`` as a vint, in the shortest form unless ``length`` is given."""
    if value < 0 or value > MAX_VINT_VALUE:
        raise ValueError(f"vint value out of range: {value}")
    minimum = 1
    while value >= (1 << (7 * minimum)) - 1:
        minimum += 1
    size = minimum if length is None else length
    if not minimum <= size <= MAX_SIZE_LENGTH:
        raise ValueError(f"value {value} does not fit a {size}-byte vint")
    return ((1 << (7 * size)) | value).to_bytes(size, "big")


def encode_element_size(size: int | None, length: int | None = None) -> bytes:
    """Encode a data size; ``None`` writes the reserved "unknown size" marker."""
    if size is None:
        width = length or 1
        marker_and_ones = (1 << (7 * width + 1)) - 1
        return marker_and_ones.to_bytes(width, "big")
    return encode_vint(size, length)


def encode_element_id(element_id: int) -> bytes:
    """The bytes of an element ID as the specs write it (marker included)."""
    length = (element_id.bit_length() + 7) // 8
    data = element_id.to_bytes(max(length, 1), "big")
    if not 1 <= length <= MAX_ID_LENGTH or vint_length(data[0]) != length:
        raise ValueError(f"not a valid EBML element ID: {element_id:#x}")
    return data


class ElementHeader(NamedTuple):
    """Where one element sits: ``offset`` of its ID, header length and body size.

    A NamedTuple rather than a frozen dataclass: a probe creates thousands of
    these, and a tuple is several times cheaper to build.
    """

    element_id: int
    offset: int
    header_size: int
    data_size: int | None

    @property
    def data_offset(self) -> int:
        return self.offset + self.header_size

    @property
    def end(self) -> int | None:
        """First byte after the element; ``None`` when its size is unknown."""
        if self.data_size is None:
            return None
        return self.data_offset + self.data_size


def parse_element_header(data: Buffer, pos: int = 0, *, base_offset: int = 0) -> ElementHeader:
    """Decode the element header at ``data[pos]``; offsets are ``base_offset + pos``."""
    available = len(data) - pos
    if available >= 2:  # fast path for well-formed data; the general one below explains errors
        id_length = _LENGTHS[data[pos]]
        if 0 < id_length <= MAX_ID_LENGTH and id_length < available:
            size_start = pos + id_length
            size_length = _LENGTHS[data[size_start]]
            if size_length and id_length + size_length <= available:
                mask = _VALUE_MASKS[size_length]
                size: int | None = (
                    int.from_bytes(data[size_start : size_start + size_length], "big") & mask
                )
                return ElementHeader(
                    int.from_bytes(data[pos:size_start], "big"),
                    base_offset + pos,
                    id_length + size_length,
                    None if size == mask else size,
                )
    element_id, id_length = decode_element_id(data, pos)
    size, size_length = decode_element_size(data, pos + id_length)
    return ElementHeader(element_id, base_offset + pos, id_length + size_length, size)


def iter_elements(
    data: Buffer, start: int = 0, end: int | None = None, *, base_offset: int = 0
) -> Iterator[ElementHeader]:
    """The elements laid end to end in ``data[start:end]`` (the body of a master element).

    An element of unknown size runs to ``end`` and is the last one yielded (finding
    its real end would need the schema). An element overrunning ``end`` raises
    EbmlTruncatedError when ``end`` is the end of the data, else EbmlError.
    """
    limit = len(data) if end is None else end
    pos = start
    while pos < limit:
        header = parse_element_header(data, pos, base_offset=base_offset)
        if header.header_size > limit - pos:
            raise EbmlError(f"element header at byte {base_offset + pos} overruns its parent")
        if header.data_size is None:
            yield header
            return
        body_end = pos + header.header_size + header.data_size
        if body_end > limit:
            kind = EbmlTruncatedError if limit >= len(data) else EbmlError
            raise kind(
                f"element {header.element_id:#x} at byte {header.offset} declares "
                f"{header.data_size} bytes but only {limit - pos - header.header_size} remain"
            )
        yield header
        pos = body_end


def element_body(data: Buffer, header: ElementHeader, *, base_offset: int = 0) -> memoryview:
    """The body bytes of ``header`` within ``data`` (offsets relative to ``base_offset``)."""
    start = header.data_offset - base_offset
    stop = len(data) if header.data_size is None else start + header.data_size
    return memoryview(data)[start:stop]


def iter_children(body: Buffer) -> Iterator[tuple[int, memoryview]]:
    """(ID, body) of each child of a master element held in memory."""
    view = memoryview(body)
    for element_id, offset, header_size, data_size in iter_elements(view):
        start = offset + header_size
        yield element_id, view[start : len(view) if data_size is None else start + data_size]


def read_element_header(stream: BinaryIO, offset: int, limit: int) -> ElementHeader:
    """Read the element header at ``offset`` of an open file, reading nothing at or past ``limit``.

    Seeks and reads at most 12 bytes; a header cut by ``limit`` raises EbmlTruncatedError.
    """
    stream.seek(offset)
    chunk = stream.read(max(0, min(MAX_HEADER_LENGTH, limit - offset)))
    return parse_element_header(chunk, 0, base_offset=offset)


def iter_file_elements(stream: BinaryIO, start: int, end: int) -> Iterator[ElementHeader]:
    """Element headers laid end to end in ``[start, end)`` of a file, skipping bodies by size.

    Reads only the headers, so a multi-gigabyte body costs one seek. An element of
    unknown size is yielded and ends the iteration; one overrunning ``end``
    raises EbmlTruncatedError (the caller knows whether ``end`` is the file end).
    """
    pos = start
    while pos < end:
        header = read_element_header(stream, pos, end)
        if header.end is not None and header.end > end:
            raise EbmlTruncatedError(
                f"element {header.element_id:#x} at byte {pos} declares {header.data_size} "
                f"bytes but only {end - header.data_offset} remain"
            )
        yield header
        if header.end is None:
            return
        pos = header.end


def read_uint(body: Buffer) -> int:
    """An unsigned integer element body (0–8 bytes, big-endian; empty = 0)."""
    if len(body) > 8:
        raise EbmlError(f"unsigned integer of {len(body)} bytes (at most 8 allowed)")
    return int.from_bytes(body, "big")


def read_float(body: Buffer) -> float:
    """A float element body: 0 bytes (0.0), 4 bytes (single) or 8 bytes (double)."""
    if len(body) == 0:
        return 0.0
    if len(body) == 4:
        return float(struct.unpack(">f", body)[0])
    if len(body) == 8:
        return float(struct.unpack(">d", body)[0])
    raise EbmlError(f"float of {len(body)} bytes (must be 0, 4 or 8)")


def read_string(body: Buffer) -> str:
    """A UTF-8 (or ASCII) string body; trailing NUL padding is not part of the value."""
    return bytes(body).split(b"\x00", 1)[0].decode("utf-8", errors="replace")
