"""Requests from one node to another: a small HTTP/1.1 client with kept-alive connections.

Nodes ask each other for reads and write outcomes by POSTing a pickled
request (`codec.py`) signed with the cluster secret (`auth.py`) to an
internal path. Only this exchange is needed, so the client is a few lines
over asyncio streams rather than a dependency: a request with a
Content-Length body, an answer read by its Content-Length.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from tracker.cluster import auth

CONNECT_SECONDS = 2.0
IDLE_CONNECTIONS = 8


class PeerError(Exception):
    """The other node could not be reached or did not answer in time."""


class Peers:
    def __init__(self, secret: str):
        self._secret = secret
        self._idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}

    async def post(self, url: str, path: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        """POST `body` to `path` on the node at `url`; (status, answer body)."""
        parts = urlsplit(url)
        address = (parts.hostname or "127.0.0.1", parts.port or 80)
        signature = auth.sign_request(self._secret, "POST", path, body)
        head = (f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n"
                f"{auth.HEADER}: {signature}\r\n\r\n").encode()
        try:
            return await asyncio.wait_for(self._exchange(address, head + body), timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as error:
            raise PeerError(f"{url}: {error!r}") from None

    async def _exchange(self, address: tuple[str, int], request: bytes) -> tuple[int, bytes]:
        idle = self._idle.setdefault(address, [])
        while idle:  # a kept connection the other side may have closed meanwhile
            reader, writer = idle.pop()
            try:
                return await self._send(address, reader, writer, request)
            except (OSError, asyncio.IncompleteReadError):
                writer.close()
        reader, writer = await asyncio.wait_for(asyncio.open_connection(*address), CONNECT_SECONDS)
        return await self._send(address, reader, writer, request)

    async def _send(self, address: tuple[str, int], reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
        try:
            writer.write(request)
            await writer.drain()
            status, length, keep = await _read_head(reader)
            body = await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        idle = self._idle.setdefault(address, [])
        if keep and len(idle) < IDLE_CONNECTIONS:
            idle.append((reader, writer))
        else:
            writer.close()
        return status, body

    def close(self) -> None:
        for idle in self._idle.values():
            for _reader, writer in idle:
                writer.close()
        self._idle.clear()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    status_line = await reader.readuntil(b"\r\n")
    status = int(status_line.split()[1])
    length, keep = 0, True
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
    return status, length, keep
