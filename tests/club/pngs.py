"""Building PNG files byte by byte, valid or broken on purpose."""

from __future__ import annotations

import base64
import functools
import struct
import zlib

SAMPLES_PER_PIXEL = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
"""By PNG colour type: grey, RGB, palette index, grey + alpha, RGBA."""
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
"""Each interlace pass's first column, first row, column step and row step (PNG spec, section 8.2)."""


def chunk(kind: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    checksum = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)


def scanlines(width: int, height: int, *, depth: int = 8, colour: int = 0, interlace: int = 0) -> bytes:
    """The filtered image data a decoder expects: per row a filter byte (0) and its samples, pass after pass.

    The passes are walked pixel by pixel (not by formula) so the tests check the code's arithmetic.
    """
    bits = SAMPLES_PER_PIXEL[colour] * depth
    passes = ADAM7 if interlace else ((0, 0, 1, 1),)
    out = bytearray()
    for x0, y0, dx, dy in passes:
        columns = len(range(x0, width, dx))
        for y in range(y0, height, dy):
            if columns:
                out += b"\x00" + bytes((y * 7 + x) % 256 for x in range((columns * bits + 7) // 8))
    return bytes(out)


def png(
    width: int = 40,
    height: int = 12,
    *,
    depth: int = 8,
    colour: int = 0,
    interlace: int = 0,
    data: bytes | None = None,
    bad_crc: bool = False,
    truncate: int = 0,
    pad: int = 0,
) -> bytes:
    """A greyscale image by default; ``data`` replaces the image data (to make it lie about its size);
    ``pad`` adds an ancillary chunk of that many bytes (to make it large)."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    raw = scanlines(width, height, depth=depth, colour=colour, interlace=interlace) if data is None else data
    extra = chunk(b"tEXt", b"Comment\x00" + b"x" * pad) if pad else b""
    palette = chunk(b"PLTE", bytes(range(256)) * 3) if colour == 3 else b""
    encoded = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + palette
        + chunk(b"IDAT", zlib.compress(raw), crc=1 if bad_crc else None)
        + chunk(b"IEND", b"")
    )
    return encoded[: len(encoded) - truncate] if truncate else encoded


@functools.cache
def bomb(width: int, height: int, *, colour: int = 6, interlace: int = 0) -> bytes:
    """A PNG whose few compressed bytes inflate to a width x height image of zeros (8-bit samples)."""
    row = 1 + width * SAMPLES_PER_PIXEL[colour]
    deflater = zlib.compressobj(9)
    zeros = b"\x00" * row
    compressed = b"".join(deflater.compress(zeros) for _ in range(height)) + deflater.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", compressed) + chunk(b"IEND", b"")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
