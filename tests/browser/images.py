"""Reading the pixels of the PNGs a browser's canvas produces (8-bit RGB or RGBA, not interlaced)."""

from __future__ import annotations

import struct
import zlib

CHANNELS = {2: 3, 6: 4}


def pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of raw samples), the scanline filters undone."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, header, data = 8, b"", bytearray()
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        body = png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            data += body
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0), (depth, interlace)
    assert colour in CHANNELS, colour
    step = CHANNELS[colour]
    raw = zlib.decompress(bytes(data))
    stride = width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - step] if x >= step else 0
            up = previous[x]
            corner = previous[x - step] if x >= step else 0
            line[x] = (line[x] + _predict(kind, left, up, corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def dark_pixels(png: bytes) -> int:
    """Pixels drawn in ink: opaque and dark."""
    width, _, rows = pixels(png)
    step = len(rows[0]) // width
    count = 0
    for row in rows:
        for x in range(0, len(row), step):
            opaque = step == 3 or row[x + 3] > 128
            if opaque and row[x] + row[x + 1] + row[x + 2] < 3 * 96:
                count += 1
    return count


def _predict(kind: int, left: int, up: int, corner: int) -> int:
    if kind == 0:
        return 0
    if kind == 1:
        return left
    if kind == 2:
        return up
    if kind == 3:
        return (left + up) // 2
    assert kind == 4, f"unknown filter {kind}"
    guess = left + up - corner
    near_left, near_up, near_corner = abs(guess - left), abs(guess - up), abs(guess - corner)
    if near_left <= near_up and near_left <= near_corner:
        return left
    return up if near_up <= near_corner else corner
