"""segno's QR symbols, drawn from a layout computed once per version and error level.

segno places a message one bit at a time and then masks every module in Python: more
than half of a version-10 symbol's CPU (~2.5 ms of ~4). For one version, error level
and mask everything but the message is fixed, and placing and masking the message are a
fixed permutation and XOR. So each layout is worked out once with segno's own functions
(the symbol of an all-zero message, and the module each message bit lands on), and a
symbol is that blank symbol with its message's one-bits flipped. The message's error
correction is computed a byte at a time from a table rather than a bit of arithmetic per
byte and codeword (segno's ``make_final_message``, another quarter of its time), and a
segment's bits are written a group at a time rather than one generator step per bit
(segno's ``make_segment``, two thirds of what was left).

It vouches for itself: the first symbol drawn with each layout must equal segno's own,
module for module; otherwise that layout is dropped and segno draws.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from itertools import compress, zip_longest
from typing import Any

import segno
from segno import consts as _consts
from segno import encoder as _encoder

log = logging.getLogger(__name__)

# The encoder's steps are segno's own functions and tables, untyped and not its public API:
# segno is pinned (pyproject.toml), and each layout is checked against segno.make.
_segno: Any = _encoder
_tables: Any = _consts

ERROR_LEVEL = "m"
"""Error correction M at least; segno raises it when that fits in the same version."""
_ERROR = _tables.ERROR_LEVEL_M
# segno marks a free module 0x2; numbering the message's bits from 3 up keeps them apart.
_FREE, _FIRST_BIT = 0x2, 3


@dataclass(frozen=True)
class _Layout:
    width: int
    blank: bytes
    """The symbol of an all-zero message, row after row, 1 a dark module."""
    positions: tuple[int, ...]
    """Where each bit of the final message (data and error correction) lands in ``blank``."""


# Layouts whose first symbol was compared with segno's: True equal, False not (not used).
_checked: dict[tuple[int, int, int], bool] = {}


def symbol(segments: list[str], mask: int) -> segno.QRCode:
    """segno's symbol for ``segments`` with error correction M (or better) and ``mask``."""
    # segno's encoder takes a list of segments, each in the mode that fits it best
    # (segno.encoder.prepare_data); its stub names only a single text.
    return segno.make(segments, error=ERROR_LEVEL, mask=mask, micro=False)  # type: ignore[arg-type]


def matrix(segments: list[str], mask: int) -> list[bytes]:
    """The rows of :func:`symbol`'s matrix (1 a dark module), drawn from its layout."""
    version, error, message = _message(segments)
    key = (version, error, mask)
    layout = _layout(*key) if _checked.get(key, True) else None
    if layout is None or not 0 <= len(layout.positions) - len(message) < 8:
        return _rows(symbol(segments, mask).matrix)
    modules = bytearray(layout.blank)
    for position in compress(layout.positions, message):
        modules[position] ^= 1
    width = layout.width
    rows = [bytes(modules[start : start + width]) for start in range(0, len(modules), width)]
    if key not in _checked:
        # Two threads may both compare the first symbol: the same answer twice.
        _checked[key] = rows == _rows(symbol(segments, mask).matrix)
        if not _checked[key]:
            log.warning("the QR layout of version %d differs from segno's symbol: not used", version)
            return _rows(symbol(segments, mask).matrix)
    return rows


def _prepare(segments: list[str]) -> Any:
    """segno.encoder.prepare_data of ``segments``: each in the mode segno picks for it."""
    prepared = _segno.Segments()
    for text in segments:
        prepared.add_segment(_segment(text))
    return prepared


def _segment(text: str) -> Any:
    """segno.encoder.make_segment(text, None): the text as segno encodes it (ISO/IEC
    18004, 7.4.3-7.4.5), each group of digits or pair of characters looked up, the bytes
    written as one number; a text segno would put in Kanji mode is left to segno."""
    data, length, encoding = _segno.data_to_bytes(text, None)
    mode = _segno.find_mode(data)
    if mode == _tables.MODE_NUMERIC:
        bits = "".join(map(_NUMERIC_BITS.__getitem__, _GROUPS_OF_3.findall(data)))
    elif mode == _tables.MODE_ALPHANUMERIC:
        bits = "".join(map(_ALPHANUMERIC_BITS.__getitem__, _GROUPS_OF_2.findall(data)))
    elif mode == _tables.MODE_BYTE:
        bits = format(int.from_bytes(data, "big"), f"0{8 * length}b") if length else ""
    else:
        return _segno.make_segment(text, None)
    return _segno._Segment(
        bytearray(bits.encode("ascii").translate(_BITS)), length, mode, encoding if mode == _tables.MODE_BYTE else None
    )


def _message(segments: list[str]) -> tuple[int, int, bytes]:
    """The version, error level and final message bits segno encodes ``segments`` with
    (segno.encoder.encode and _encode, up to placing the bits)."""
    prepared = _prepare(segments)
    version: int = _segno.find_version(prepared, _ERROR, eci=False, micro=False)
    error: int = _segno.boost_error_level(version, _ERROR, prepared, False)
    buffer = _segno.Buffer()
    versions = _segno.version_range(version)
    for segment in prepared:
        _segno.write_segment(buffer, segment, None, versions, False)
    capacity = _tables.SYMBOL_CAPACITY[version][error]
    _segno.write_terminator(buffer, capacity, None, len(buffer))
    _segno.write_padding_bits(buffer, version, len(buffer))
    _segno.write_pad_codewords(buffer, version, capacity, len(buffer))
    return version, error, _final_message(version, error, buffer.getbits())


def _final_message(version: int, error: int, data_bits: bytearray) -> bytes:
    """segno.encoder.make_final_message: the data codewords and their Reed-Solomon error
    correction codewords, block by block, interleaved, as bits (ISO/IEC 18004, 7.5-7.6),
    less the remainder bits (zeros, which change no module). A block's error correction
    is the remainder of a polynomial division, one table lookup and XOR per data byte here
    instead of one per byte and error correction codeword in segno."""
    codewords = _to_bytes(data_bits)
    data_blocks: list[bytes] = []
    error_blocks: list[bytes] = []
    start = 0
    for info in _tables.ECC[version][error]:
        count = info.num_total - info.num_data
        products = _products(count)
        top, kept = 8 * (count - 1), (1 << 8 * count) - 1
        for _ in range(info.num_blocks):
            block = codewords[start : start + info.num_data]
            start += info.num_data
            remainder = 0
            for byte in block:
                remainder = ((remainder << 8) & kept) ^ products[byte ^ (remainder >> top)]
            data_blocks.append(block)
            error_blocks.append(remainder.to_bytes(count, "big"))
    interleaved = bytes(byte for group in zip_longest(*data_blocks) for byte in group if byte is not None)
    interleaved += bytes(byte for group in zip_longest(*error_blocks) for byte in group if byte is not None)
    return format(int.from_bytes(interleaved, "big"), f"0{8 * len(interleaved)}b").encode("ascii").translate(_BITS)


_BITS = bytes.maketrans(b"01", b"\x00\x01")
_GROUPS_OF_3, _GROUPS_OF_2 = re.compile(b".{1,3}", re.DOTALL), re.compile(b".{1,2}", re.DOTALL)
# Numeric mode: three digits in 10 bits, a last two in 7, a last one in 4.
_NUMERIC_BITS = {
    str(number).zfill(digits).encode(): format(number, f"0{3 * digits + 1}b")
    for digits in (1, 2, 3)
    for number in range(10**digits)
}
# Alphanumeric mode: two characters in 11 bits (45 times the first's value plus the
# second's), a last one in 6.
_ALPHANUMERIC_BITS = {
    **{
        bytes([a, b]): format(45 * i + j, "011b")
        for i, a in enumerate(_tables.ALPHANUMERIC_CHARS)
        for j, b in enumerate(_tables.ALPHANUMERIC_CHARS)
    },
    **{bytes([a]): format(i, "06b") for i, a in enumerate(_tables.ALPHANUMERIC_CHARS)},
}
_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def _to_bytes(bits: bytearray) -> bytes:
    return int(bits.translate(_DIGITS), 2).to_bytes(len(bits) // 8, "big")


@functools.cache
def _products(count: int) -> tuple[int, ...]:
    """For each byte value, the generator polynomial of ``count`` error correction
    codewords times it (in GF(256), segno's tables), as one integer of ``count`` bytes."""
    generator, log, exp = _tables.GEN_POLY[count], _tables.GALIOS_LOG, _tables.GALIOS_EXP
    return (0, *(int.from_bytes(bytes(exp[log[value] + g] for g in generator), "big") for value in range(1, 256)))


@functools.cache
def _layout(version: int, error: int, mask: int) -> _Layout:
    width: int = _segno.calc_matrix_size(version)

    def function_patterns() -> tuple[bytearray, ...]:
        grid: tuple[bytearray, ...] = _segno.make_matrix(width, width)
        _segno.add_finder_patterns(grid, width, width)
        _segno.add_alignment_patterns(grid, width, width)
        return grid

    free = sum(row.count(_FREE) for row in function_patterns())
    numbered = [list(row) for row in function_patterns()]
    _segno.add_codewords(numbered, range(_FIRST_BIT, _FIRST_BIT + free), version)
    landed = sorted(
        (value, i * width + j) for i, row in enumerate(numbered) for j, value in enumerate(row) if value >= _FIRST_BIT
    )
    blank = function_patterns()
    _segno.add_codewords(blank, bytes(free), version)
    _, blank = _segno.find_and_apply_best_mask(blank, width, width, mask)
    _segno.add_format_info(blank, version, error, mask)
    _segno.add_version_info(blank, version)
    return _Layout(width, b"".join(blank), tuple(position for _, position in landed))


def _rows(grid: tuple[bytearray, ...]) -> list[bytes]:
    return [bytes(row) for row in grid]
