"""Time limits for clients that send a request slowly or not at all (`remedy serve --request-timeout`).

Why: uvicorn waits for a request's headers and body as long as the client likes (measured: a
half-sent body, headers without their blank line and a connection that never sends a byte were all
still open after 30 s). Each such connection holds a file descriptor for good, so enough of them,
from a buggy client or on purpose (slowloris), stop the server from accepting anyone. Here the
headers must be complete within the limit (else the connection gets 408 and is closed), and
`read_body` gives the body as long (408 too). A kept-alive connection between requests is uvicorn's
own keep-alive timeout (5 s).

The body has a deadline here too, whether or not the application reads it: a path that answers
before reading (401, 404, 405) left the rest of the body to uvicorn, and every byte received cancels
uvicorn's keep-alive timer, so a client dripping one byte a second held the connection for good
(issue 35: still open after 25 s; 113 of them under `ulimit -n 128` made `/v1/match` fail). Past the
limit (plus a moment, so that `read_body`'s own 408 with its message comes first when the application
reads) the connection is closed: with a 408 if nothing was answered yet, silently if it was. Bytes
that begin no request (blank lines between requests) are bounded the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_SECONDS = 10.0
BODY_GRACE_SECONDS = 0.5  # the application's own 408 (read_body) comes first when it reads the body
# Set by `serve_until_stopped` (one process) or by each worker's app factory before the server accepts.
limit_seconds = DEFAULT_SECONDS
TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                    b"content-length: 59\r\n\r\n" + b'{"error":"the request was not sent in time; send it again"}')


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline on each request: from its first byte (or the
    connection) to the end of its headers, then again from there to the end of its body."""

    _deadline: asyncio.TimerHandle | None = None
    _in_headers = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(limit_seconds)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and not self._answering():
            self._arm(limit_seconds)  # bytes between requests cancel uvicorn's keep-alive timer: bound them
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._arm(limit_seconds)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._arm(limit_seconds + BODY_GRACE_SECONDS)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _answering(self) -> bool:
        """The whole request is in and the application is still answering it (no deadline then)."""
        cycle = self.cycle
        return cycle is not None and not cycle.more_body and not cycle.response_complete

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if self._answering():  # a pipelined request is late while the one before is answered
            cycle.keep_alive = False
            return
        if self._in_headers or cycle is None or not cycle.response_started:
            self.transport.write(TIMEOUT_RESPONSE)  # nothing answered yet for this request
            self.transport.close()
        elif cycle.response_complete:
            self.transport.close()  # answered before its body ended (401, 404): the rest is not waited for
        else:
            cycle.keep_alive = False  # an answer is being written: close once it is out


async def within_limit(awaitable: Any) -> Any:
    """`awaitable` (reading a body), or TimeoutError after the limit."""
    return await asyncio.wait_for(awaitable, limit_seconds)
