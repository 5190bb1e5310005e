"""Building PNG files byte by byte, valid or broken on purpose."""

from __future__ import annotations

import base64
import struct
import zlib


def chunk(kind: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    checksum = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)


def png(width: int = 40, height: int = 12, *, bad_crc: bool = False, truncate: int = 0, pad: int = 0) -> bytes:
    """A greyscale image; ``pad`` adds an ancillary chunk of that many bytes (to make it large)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes((x * 7 + y) % 256 for x in range(width)) for y in range(height))
    extra = chunk(b"tEXt", b"Comment\x00" + b"x" * pad) if pad else b""
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(rows), crc=1 if bad_crc else None)
        + chunk(b"IEND", b"")
    )
    return data[: len(data) - truncate] if truncate else data


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
