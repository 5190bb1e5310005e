"""Signature images: checked to be a real PNG no larger than a signature needs, then kept in file storage.

A PNG's few compressed bytes can inflate to hundreds of megabytes (a "PNG bomb": 124 KB of IDAT make an
8000x4000 RGBA image of 128 MB). So the header is checked before anything is inflated: 8 bits a sample,
at most 2000x1000 pixels, which bounds the decoded image at 7.6 MB. The image data is then inflated in
steps of 64 KiB that are counted and dropped, so memory stays at one step whatever the PNG claims, and
it must come to exactly the size the header declares (for an interlaced image, the sum of its seven
Adam7 passes).

Where the work runs: a small signature is checked inline on the event loop, a larger one on a worker
thread. Measured on the 2-core production-sized box under load, inflating 64 KiB takes about 0.15 ms
and decoding 64 KiB of base64 about 0.25 ms, while handing work to another thread and back costs
milliseconds (the thread waits for the GIL and the scheduler; see app/core/storage.py). So a signature
whose base64 and declared decoded size are both at most 64 KiB (the 1x1 PNG of the benchmark, a
sparse pad drawing) stays inline; anything up to the caps, at most about 8 MB of inflating, goes to a
thread. The header is read from the first 44 base64 characters, so a bomb is refused inline without
decoding the rest.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import struct
import zlib
from dataclasses import dataclass
from uuid import uuid4

from advanced_alchemy.types.file_object import FileObject, storages

from app.core.errors import RuleViolationError
from app.core.storage import register_storage

__all__ = [
    "MAX_HEIGHT",
    "MAX_SIGNATURE_BYTES",
    "MAX_WIDTH",
    "STORAGE_KEY",
    "configure_signature_storage",
    "decode_signature",
    "delete_signature",
    "signature_path",
    "store_signature",
]

STORAGE_KEY = "signatures"
MAX_SIGNATURE_BYTES = 512 * 1024
"""The PNG file itself; its base64 (699,052 characters) fits the public routes' 1 MiB body limit."""
MAX_WIDTH = 2000
MAX_HEIGHT = 1000
MAX_CHUNKS = 1024
"""Far more than any encoder writes (libpng splits IDAT every 8 KiB: 64 chunks at 512 KiB)."""
INLINE_LIMIT = 64 * 1024
"""Base64 characters and declared decoded bytes up to which a signature is checked on the event loop."""
_INFLATE_STEP = 64 * 1024
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_HEADER_BASE64 = 44
"""The magic, IHDR's length, type, 13 bytes and CRC: 33 bytes, 44 base64 characters."""
_SAMPLES_PER_PIXEL = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type: grey, RGB, palette, grey + alpha, RGBA
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
"""Each interlace pass's first column, first row, column step, row step (PNG spec 8.2)."""


def configure_signature_storage(url: str) -> None:
    """Register the storage backend signatures are saved to (a local directory, or S3-compatible)."""
    register_storage(STORAGE_KEY, url)


async def decode_signature(encoded: str | None) -> bytes:
    """The PNG bytes of a base64 signature (a data: URL is fine), or a 422 that says what is wrong with it.

    Small signatures are checked inline, larger ones on a worker thread (see the module docstring).
    """
    if not encoded:
        raise RuleViolationError("signature_png is required: the signature as a base64 PNG")
    text = encoded.split(",", 1)[-1] if encoded.startswith("data:") else encoded
    if len(text) > (MAX_SIGNATURE_BYTES * 4) // 3 + 4:
        raise _too_large()
    header = _peek_header(text)
    if len(text) <= INLINE_LIMIT and (header is None or header.decoded_size <= INLINE_LIMIT):
        return _decode(text)
    return await asyncio.to_thread(_decode, text)


@dataclass(frozen=True, slots=True)
class _Header:
    width: int
    height: int
    colour: int
    decoded_size: int
    """Bytes the image data must inflate to: per row of each pass, a filter byte and the samples."""


def _peek_header(text: str) -> _Header | None:
    """The header from the start of the base64 alone, checked; None when that start is not even a PNG's."""
    try:
        start = base64.b64decode(text[:_HEADER_BASE64], validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(start) < 33 or not start.startswith(_PNG_MAGIC) or start[8:16] != b"\x00\x00\x00\x0dIHDR":
        return None
    return _header(start[16:29])


def _header(body: bytes) -> _Header:
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
    if width == 0 or height == 0:
        raise RuleViolationError("signature_png has no pixels")
    if width > MAX_WIDTH or height > MAX_HEIGHT:
        raise RuleViolationError(
            f"signature_png is {width}x{height} pixels; a signature may be at most {MAX_WIDTH}x{MAX_HEIGHT} pixels"
        )
    if colour not in _SAMPLES_PER_PIXEL:
        raise RuleViolationError("signature_png has an unknown colour type")
    if depth != 8:
        raise RuleViolationError(f"signature_png has {depth} bits a sample; a signature must have 8 bits a sample")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise RuleViolationError("signature_png has an unknown compression, filter or interlace method")
    bytes_per_pixel = _SAMPLES_PER_PIXEL[colour]
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    size = 0
    for x0, y0, dx, dy in passes:
        columns = (width - x0 + dx - 1) // dx if width > x0 else 0
        rows = (height - y0 + dy - 1) // dy if height > y0 else 0
        if columns and rows:
            size += rows * (1 + columns * bytes_per_pixel)
    return _Header(width=width, height=height, colour=colour, decoded_size=size)


def _decode(text: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RuleViolationError("signature_png is not valid base64") from None
    if len(data) > MAX_SIGNATURE_BYTES:
        raise _too_large()
    header, image_data = _chunks(data)
    _check_image_data(header, image_data)
    return data


def _chunks(data: bytes) -> tuple[_Header, list[memoryview]]:
    """The checked header and the IDAT bodies: signature, IHDR first, every chunk's CRC, IEND last."""
    if not data.startswith(_PNG_MAGIC):
        raise RuleViolationError("signature_png is not a PNG image")
    view = memoryview(data)
    offset = len(_PNG_MAGIC)
    header: _Header | None = None
    image_data: list[memoryview] = []
    has_palette = False
    kind = b""
    for _ in range(MAX_CHUNKS):
        if offset + 12 > len(data):
            break
        length, kind = struct.unpack(">I4s", view[offset : offset + 8])
        body = view[offset + 8 : offset + 8 + length]
        crc_at = offset + 8 + length
        if len(body) != length or crc_at + 4 > len(data):
            raise RuleViolationError("signature_png is a truncated PNG")
        (crc,) = struct.unpack(">I", view[crc_at : crc_at + 4])
        if zlib.crc32(body, zlib.crc32(kind)) != crc:
            raise RuleViolationError("signature_png is a corrupt PNG (bad checksum)")
        if header is None:
            if kind != b"IHDR" or length != 13:
                raise RuleViolationError("signature_png is not a complete PNG")
            header = _header(bytes(body))
        elif kind == b"PLTE":
            has_palette = True
        elif kind == b"IDAT":
            image_data.append(body)
        offset = crc_at + 4
        if kind == b"IEND":
            break
    else:
        raise RuleViolationError(f"signature_png has more than {MAX_CHUNKS} chunks")
    if header is None or kind != b"IEND":
        raise RuleViolationError("signature_png is not a complete PNG")
    if header.colour == 3 and not has_palette:
        raise RuleViolationError("signature_png is a palette image without a palette")
    return header, image_data


def _check_image_data(header: _Header, image_data: list[memoryview]) -> None:
    """The IDAT stream inflates to exactly ``header.decoded_size``, counted in steps so a bomb never lands in
    memory: no step is larger than 64 KiB, and inflating stops at the first byte beyond the declared size."""
    inflater = zlib.decompressobj()
    produced = 0
    try:
        for compressed in image_data:
            pending: bytes | memoryview = compressed
            while pending and not inflater.eof:
                produced += len(inflater.decompress(pending, _INFLATE_STEP))
                if produced > header.decoded_size:
                    raise _wrong_size()
                pending = inflater.unconsumed_tail
        while not inflater.eof:  # output zlib still holds back once the input is used up
            step = len(inflater.decompress(b"", _INFLATE_STEP))
            if not step:
                break
            produced += step
            if produced > header.decoded_size:
                raise _wrong_size()
    except zlib.error:
        raise RuleViolationError("signature_png does not decode") from None
    if produced != header.decoded_size:
        raise _wrong_size()
    if not inflater.eof:
        raise RuleViolationError("signature_png does not decode (its image data ends early)")


def _too_large() -> RuleViolationError:
    return RuleViolationError(f"signature_png is larger than {MAX_SIGNATURE_BYTES // 1024} KiB")


def _wrong_size() -> RuleViolationError:
    return RuleViolationError("signature_png does not decode to the size its header declares")


def signature_path() -> str:
    """A new, unguessable place for one signature (the player row keeps it)."""
    name = uuid4().hex
    return f"{name[:2]}/{name}.png"


async def store_signature(path: str, png: bytes) -> None:
    """Save the PNG at ``path`` in the signature storage."""
    stored = FileObject(backend=STORAGE_KEY, filename=path, to_filename=path, content_type="image/png")
    await stored.save_async(data=png)


async def delete_signature(path: str) -> None:
    await storages.get_backend(STORAGE_KEY).delete_object_async(path)
