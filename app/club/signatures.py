"""Signature images: checked to be a real, decodable PNG of bounded size, then kept in file storage."""

from __future__ import annotations

import base64
import binascii
import struct
import zlib
from uuid import uuid4

from advanced_alchemy.types.file_object import FileObject, storages

from app.core.errors import RuleViolationError
from app.core.storage import register_storage

__all__ = [
    "MAX_SIGNATURE_BYTES",
    "STORAGE_KEY",
    "configure_signature_storage",
    "decode_signature",
    "delete_signature",
    "signature_path",
    "store_signature",
]

STORAGE_KEY = "signatures"
MAX_SIGNATURE_BYTES = 512 * 1024
MAX_DIMENSION = 8000
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_BYTES_PER_PIXEL = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by PNG colour type, at 8 bits a sample


def configure_signature_storage(url: str) -> None:
    """Register the storage backend signatures are saved to (a local directory, or S3-compatible)."""
    register_storage(STORAGE_KEY, url)


def decode_signature(encoded: str | None) -> bytes:
    """The PNG bytes of a base64 signature, or a 422 that says what is wrong with it."""
    if not encoded:
        raise RuleViolationError("signature_png is required: the signature as a base64 PNG")
    if len(encoded) > (MAX_SIGNATURE_BYTES * 4) // 3 + 4:
        raise RuleViolationError(f"signature_png is larger than {MAX_SIGNATURE_BYTES // 1024} KiB")
    try:
        data = base64.b64decode(encoded.split(",", 1)[-1] if encoded.startswith("data:") else encoded, validate=True)
    except (binascii.Error, ValueError):
        raise RuleViolationError("signature_png is not valid base64") from None
    if len(data) > MAX_SIGNATURE_BYTES:
        raise RuleViolationError(f"signature_png is larger than {MAX_SIGNATURE_BYTES // 1024} KiB")
    _check_png(data)
    return data


def _check_png(data: bytes) -> None:
    """Signature, IHDR, every chunk's CRC, and IDAT that inflates to the size the header promises."""
    if not data.startswith(_PNG_MAGIC):
        raise RuleViolationError("signature_png is not a PNG image")
    offset = len(_PNG_MAGIC)
    chunks: list[tuple[bytes, bytes]] = []
    while offset + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        crc_at = offset + 8 + length
        if len(body) != length or crc_at + 4 > len(data):
            raise RuleViolationError("signature_png is a truncated PNG")
        (crc,) = struct.unpack(">I", data[crc_at : crc_at + 4])
        if zlib.crc32(kind + body) != crc:
            raise RuleViolationError("signature_png is a corrupt PNG (bad checksum)")
        chunks.append((kind, body))
        offset = crc_at + 4
        if kind == b"IEND":
            break
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13 or chunks[-1][0] != b"IEND":
        raise RuleViolationError("signature_png is not a complete PNG")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION) or colour not in _BYTES_PER_PIXEL:
        raise RuleViolationError("signature_png has an unsupported size or colour type")
    compressed = b"".join(body for kind, body in chunks if kind == b"IDAT")
    if not compressed:
        raise RuleViolationError("signature_png has no image data")
    bits_per_pixel = _BYTES_PER_PIXEL[colour] * depth
    expected = height * (1 + (width * bits_per_pixel + 7) // 8)
    inflater = zlib.decompressobj()
    try:
        pixels = inflater.decompress(compressed, expected + 1)
    except zlib.error:
        raise RuleViolationError("signature_png does not decode") from None
    if interlace == 0 and len(pixels) != expected:
        raise RuleViolationError("signature_png does not decode to the size its header declares")


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
