"""CSV answers: a list operation that returns a page of JSON, or with ``Accept: text/csv`` a streamed sheet.

Shared by every list a spreadsheet user downloads (the supplier's jersey orders, a book's out-of-work
list): the response class that stays CSV, the OpenAPI operation that documents both, the cell a spreadsheet
shows as text, and the chunked writer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Schema
from litestar.response import Stream
from litestar.response.base import ASGIResponse

__all__ = ["CSV", "CsvStream", "cell", "csv_operation", "sheet", "wants_csv"]

CSV = "text/csv"
CHUNK_CHARS = 64 * 1024
"""Characters per streamed chunk."""


class CsvStream(Stream):
    """A streamed CSV body. Litestar's ``Stream`` lets the handler's media type (JSON) win over its own, so
    this one insists on being CSV."""

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        kwargs["media_type"] = f"{CSV}; charset=utf-8"
        return super().to_asgi_response(*args, **kwargs)

    @classmethod
    def download(cls, rows: AsyncIterator[str], filename: str) -> CsvStream:
        return cls(rows, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def wants_csv(request: Request[Any, Any, Any]) -> bool:
    """Whether the client asked for the sheet (``Accept: text/csv``) rather than JSON."""
    if "csv" not in request.headers.get("accept", "").lower():
        return False  # most calls: no need to parse the header's media ranges
    return request.accept.best_match(["application/json", CSV], default="application/json") == CSV


def csv_operation(columns: Sequence[str]) -> type[Operation]:
    """The ``operation_class`` of a list whose 200 is a page of JSON, or the sheet with ``columns``.

    The handler returns either, so Litestar documents the JSON as ``oneOf`` the page and an empty schema
    (the stream); the page alone is what JSON clients get, and the sheet is documented as ``text/csv``.
    """
    described = ", ".join(columns)

    @dataclass
    class CsvAlternative(Operation):
        def __post_init__(self) -> None:
            ok = (self.responses or {}).get("200")
            content = getattr(ok, "content", None)
            if not isinstance(content, dict):
                return
            json = content.get("application/json")
            schema = getattr(json, "schema", None)
            if isinstance(schema, Schema) and schema.one_of:
                json.schema = next(each for each in schema.one_of if each != Schema())  # type: ignore[union-attr]
            content[CSV] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, description=f"Columns: {described}"))

    return CsvAlternative


def cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``= + - @`` (a formula) gets a quote mark first."""
    if value is None:
        return ""
    text = value.value if hasattr(value, "value") else str(value)  # enums by their value
    text = str(text)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


Rows = AsyncIterable[Iterable[object]] | Iterable[Iterable[object]]


async def sheet(header: Sequence[str], rows: Rows) -> AsyncIterator[str]:
    """The CSV text of ``header`` and ``rows`` (each cell through :func:`cell`), a chunk at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    async for row in _each(rows):
        writer.writerow([cell(value) for value in row])
        if buffer.tell() >= CHUNK_CHARS:
            yield flush()
    yield flush()


async def _each(rows: Rows) -> AsyncIterator[Iterable[object]]:
    """The rows, from an async or a plain iterable alike."""
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row
