"""Time limits for clients that send a request slowly or not at all (`remedy serve --request-timeout`).

Why: uvicorn waits for a request's headers and body as long as the client likes (measured: a
half-sent body, headers without their blank line and a connection that never sends a byte were all
still open after 30 s). Each such connection holds a file descriptor for good, so enough of them,
from a buggy client or on purpose (slowloris), stop the server from accepting anyone. Here the
headers must be complete within the limit (else the connection gets 408 and is closed), and
`read_body` gives the body as long (408 too). A kept-alive connection between requests is uvicorn's
own keep-alive timeout (5 s).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_SECONDS = 10.0
# Set by `serve_until_stopped` (one process) or by each worker's app factory before the server accepts.
limit_seconds = DEFAULT_SECONDS
TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                    b"content-length: 59\r\n\r\n" + b'{"error":"the request was not sent in time; send it again"}')


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline from a request's first byte (or the connection) to the
    end of its headers."""

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(limit_seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.write(TIMEOUT_RESPONSE)
            self.transport.close()


async def within_limit(awaitable: Any) -> Any:
    """`awaitable` (reading a body), or TimeoutError after the limit."""
    return await asyncio.wait_for(awaitable, limit_seconds)
