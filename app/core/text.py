"""What a text input may hold, as patterns the OpenAPI document publishes and msgspec enforces.

PostgreSQL's ``text`` and ``jsonb`` cannot store the NUL character: a string carrying one is refused
at the door with a 400 naming the field, instead of failing in the database. The patterns read the
same in JSON Schema (ECMAScript) and Python's ``re``: no ``\\s`` (the two define whitespace
differently) and no ``$`` (Python's also matches before a final newline).
"""

from __future__ import annotations

__all__ = ["EMAIL_PATTERN", "END", "STORABLE_TEXT", "url_pattern"]

END = r"(?![\s\S])"
"""The end of the string, in both dialects."""

STORABLE_TEXT = rf"^[^\x00]*{END}"

_INVISIBLE = r"\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
"""Control characters and whitespace, by either dialect's definition."""

_ADDRESS_PART = rf"[^@{_INVISIBLE}]+"
EMAIL_PATTERN = rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}{END}"


def url_pattern(schemes: str) -> str:
    """An absolute URL of ``schemes`` (a regex alternation such as ``https?``), without whitespace or NUL."""
    return rf"^(?:{schemes})://[^{_INVISIBLE}]+{END}"
