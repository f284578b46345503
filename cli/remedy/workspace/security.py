"""Who may reach the workspace and what a request must carry (docs/workspace.md, "Security").

Pure ASGI middleware, in front of every route:
- the Host header must name this server (no DNS rebinding: a page of another site whose name now resolves to
  127.0.0.1 sends its own name as Host and is refused);
- with a token (required off loopback), a request must carry the session cookie `/login?token=…` set, or
  `Authorization: Bearer <token>`;
- a request body is at most `max_body` bytes (Content-Length checked first, then the bytes counted);
- every response carries a strict Content-Security-Policy (scripts and styles from this server only, no inline
  script, no frames, forms post here only) and no-store caching.

CSRF: a synchronizer token bound to the browser's session cookie, without server-side storage: the token is
HMAC-SHA256(server secret, session id). A cross-site page can neither read the cookie nor compute the MAC, and
unlike a plain double-submit cookie, a cookie planted by a sibling host cannot come with a valid token. The
cookie is also SameSite=Strict, and a POST whose Origin or Sec-Fetch-Site says "another site" is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

SESSION_COOKIE = "remedy_workspace"
AUTH_COOKIE = "remedy_workspace_auth"
CSRF_FIELD = "csrf"
MAX_BODY = 256 * 1024  # a form of several answers is a few kilobytes
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; connect-src 'self'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"), (b"cache-control", b"no-store")]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Guard:
    """The server's secrets and what it accepts; one per running workspace."""

    allowed_hosts: frozenset[str]  # Host header values (lower case); empty: any (a wildcard bind with a token)
    token: str | None = None
    max_body: int = MAX_BODY
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def csrf_token(self, session: str) -> str:
        return hmac.new(self.secret, b"csrf:" + session.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: str | None, token: str | None) -> bool:
        return bool(session and token) and hmac.compare_digest(self.csrf_token(session or ""), token or "")

    def auth_value(self) -> str:
        """What the auth cookie holds: a MAC of the token, so the cookie never holds the token itself."""
        return hmac.new(self.secret, b"auth:" + (self.token or "").encode(), hashlib.sha256).hexdigest()

    def token_ok(self, offered: str) -> bool:
        return self.token is not None and hmac.compare_digest(offered.encode(), self.token.encode())


def allowed_hosts(host: str, port: int, loopback: bool) -> frozenset[str]:
    """The Host values a browser sends to this server: the bound address and, on loopback, localhost's names."""
    if host in ("0.0.0.0", "::", ""):  # every interface: only the token protects it (options require one)
        return frozenset()
    names = {host.lower()}
    if loopback:
        names |= {"127.0.0.1", "localhost", "[::1]"}
    if ":" in host and not host.startswith("["):
        names.add(f"[{host.lower()}]")
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return frozenset(hosts)


def cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is no cookie
                continue
    return {key: morsel.value for key, morsel in jar.items()}


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class GuardMiddleware:
    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app, self.guard = app, guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        guard = self.guard
        host = (header(scope, b"host") or "").lower()
        if guard.allowed_hosts and host not in guard.allowed_hosts:
            await _plain(send, 421, "refused: the Host header names another server (DNS rebinding is not welcome)")
            return
        jar = cookies(scope)
        if guard.token is not None and not self._authorized(scope, jar):
            if scope["path"] == "/login":
                await self.app(scope, receive, send)  # the login route checks the token itself
                return
            await _plain(send, 401, "this workspace needs its token: open the address `remedy workspace` printed "
                         "(…/login?token=…)")
            return
        if scope["method"] == "POST" and not _same_site(scope):
            await _plain(send, 403, "refused: a cross-site request")
            return
        length = header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > guard.max_body):
            await _plain(send, 413, f"refused: a request body is at most {guard.max_body:,} bytes")
            return
        session = jar.get(SESSION_COOKIE)
        new_session = None
        if not session or len(session) > 100:
            session = new_session = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["session"] = session
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > guard.max_body:
                raise BodyTooLarge
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + HEADERS
                if new_session:
                    headers.append((b"set-cookie", f"{SESSION_COOKIE}={new_session}; Path=/; HttpOnly; "
                                    "SameSite=Strict".encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except BodyTooLarge:
            await _plain(send, 413, f"refused: a request body is at most {guard.max_body:,} bytes")

    def _authorized(self, scope: Scope, jar: dict[str, str]) -> bool:
        bearer = header(scope, b"authorization") or ""
        if bearer.startswith("Bearer ") and self.guard.token_ok(bearer[7:].strip()):
            return True
        return hmac.compare_digest(jar.get(AUTH_COOKIE, ""), self.guard.auth_value())


class BodyTooLarge(Exception):
    pass


def _same_site(scope: Scope) -> bool:
    """A POST from a page of this server. Sec-Fetch-Site, which browsers set themselves, decides when present;
    else Origin must name this server when it is sent (an opaque `null` origin is refused)."""
    fetch_site = header(scope, b"sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = header(scope, b"origin")
    if origin is None:
        return True  # not a browser's cross-site form (they send Origin on every POST); the CSRF token decides
    host = (header(scope, b"host") or "").lower()
    return origin.lower() in (f"http://{host}", f"https://{host}")


async def _plain(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *HEADERS]})
    await send({"type": "http.response.body", "body": body})
