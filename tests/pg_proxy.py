"""A TCP proxy on loopback in front of PostgreSQL that can hold back the server's replies.

With the replies held, a statement the server has already committed looks, to the client, like one
still in flight: the moment at which a cancellation leaves the outcome unknown to the application.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url


class HoldingProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._released = asyncio.Event()
        self._released.set()
        self._pipes: set[asyncio.Task[None]] = set()

    def hold(self) -> None:
        """From now on, bytes from the server wait in the proxy."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def url(self, database_url: str) -> str:
        """``database_url`` pointed at the proxy."""
        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        pipes = [
            asyncio.create_task(self._pipe(client_reader, server_writer, held=False)),
            asyncio.create_task(self._pipe(server_reader, client_writer, held=True)),
        ]
        self._pipes.update(pipes)
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for writer in (client_writer, server_writer):
            writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, held: bool) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if held:
                    await self._released.wait()
                writer.write(data)
                await writer.drain()

    @classmethod
    @asynccontextmanager
    async def running(cls, database_url: str) -> AsyncIterator[HoldingProxy]:
        url = make_url(database_url)
        proxy = cls(url.host or "127.0.0.1", url.port or 5432)
        server = await asyncio.start_server(proxy._serve, "127.0.0.1", 0)
        proxy.port = server.sockets[0].getsockname()[1]
        try:
            yield proxy
        finally:
            proxy.release()
            server.close()
            for pipe in proxy._pipes:
                pipe.cancel()
            await asyncio.gather(*proxy._pipes, return_exceptions=True)
            await server.wait_closed()
