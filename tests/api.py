"""Someone calling the API with a token: the helper the club's and the hall's tests build on."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

__all__ = ["ApiCaller", "Client"]

Client = AsyncTestClient[Litestar]


class ApiCaller:
    """Calls under ``prefix`` with ``headers`` (the bearer token); checks the status and that refusals are problems."""

    prefix = ""

    def __init__(self, client: Client, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def call(
        self, method: str, path: str, json: Any = None, expect: int | None = None, *, accept: str | None = None
    ) -> Any:
        """The JSON answer (``None`` when empty), or its text when it is not JSON (``accept="text/csv"``)."""
        headers = {**self.headers, "Accept": accept} if accept else self.headers
        response = await self.client.request(method, f"{self.prefix}{path}", json=json, headers=headers)
        if expect is not None:
            assert response.status_code == expect, response.text
        if response.status_code >= 400:  # every refusal is a problem document that says what is wrong
            assert response.headers["content-type"] == "application/problem+json", response.text
            assert response.json()["detail"], response.text
        if not response.content:
            return None
        return response.json() if "json" in response.headers.get("content-type", "") else response.text
