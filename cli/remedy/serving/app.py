"""The HTTP application of `remedy serve`: four JSON endpoints over the folder the reloader holds.

- `POST /v1/match` `{"query": str, "response": str?}` -> the `remedy match --format json` document (the same
  `explain_query`), plus `log_id` (the serving log line's id, null without --log-dir);
- `GET /v1/health` -> the folder in service (model, settings, entries, revision, loaded_at), the last
  reload error, the worker;
- `GET /v1/remediations` -> `{"remediations": [{"id", "kind", "status"}]}`;
- `POST /v1/reload` -> check the folder now (needs a token file: an open server cannot be made to reload).

Bodies are read up to 16 KB and refused beyond (413) whatever Content-Length says; malformed JSON and
wrong types get 400 with a message; errors are `{"error": message}` and never carry a traceback.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from threadpoolctl import ThreadpoolController

from remedy.files.folder import DocumentCache
from remedy.matching.explain import explain_query
from remedy.report.tables import json_document, plain
from remedy.serving import slow_clients
from remedy.serving.options import ServeOptions, read_token
from remedy.serving.reloader import FolderReloader, watched_fingerprint
from remedy.serving.served_folder import load_served_folder
from remedy.serving.serving_log import ServingLog
from remedy.serving.slow_clients import within_limit

MAX_BODY_BYTES = 16 * 1024
GIL_SWITCH_SECONDS = 0.0005
MATCH_FIELDS = ("query", "response")
log = logging.getLogger("remedy")


def json_response(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json_document(document, compact=True).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def without_lone_surrogates(text: str) -> str:
    """JSON may carry `\\ud800` escapes that are no character: each becomes U+FFFD instead of an error later."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refused (413) as soon as it passes `limit`: a missing or false Content-Length changes nothing.

    A body not complete within --request-timeout is refused (408: a half-sent body would hold the
    connection for good); a client that hangs up before the end gets nothing, quietly (no traceback).
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"request body over {limit} bytes")

    async def collect() -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"request body over {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await within_limit(collect())
    except asyncio.TimeoutError:  # TimeoutError itself from Python 3.11 on
        raise HTTPException(408, f"the body was not sent within {slow_clients.limit_seconds:g} s",
                            headers={"Connection": "close"}) from None
    except ClientDisconnect:
        raise HTTPException(400, "the client hung up before the end of the body") from None


def parse_match_request(body: bytes) -> tuple[str, str | None]:
    """(query, response) from a `/v1/match` body; HTTPException 400 saying what is wrong.

    The body must be UTF-8 without a byte order mark (json.loads alone would also take UTF-16 and
    UTF-32, and a BOM); nesting too deep for the parser is a 400, not a RecursionError; a query that is
    empty or only white space is refused, as `coverage` would skip its serving-log line (`--strict`: exit 1).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HTTPException(400, f"the body is not UTF-8: {error}") from None
    if text.startswith("\ufeff"):
        raise HTTPException(400, "the body starts with a byte order mark: send UTF-8 JSON without one")
    if "\x00" in text:  # never valid JSON; what UTF-16 or UTF-32 text without a BOM looks like
        raise HTTPException(400, "the body holds NUL bytes (UTF-16 or UTF-32?): send UTF-8 JSON")
    try:
        document = json.loads(text)
    except ValueError as error:
        raise HTTPException(400, f"the body is not valid JSON: {error}") from None
    except RecursionError:
        raise HTTPException(400, "the body is not valid JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise HTTPException(400, 'expected a JSON object: {"query": "...", "response": "..." (optional)}')
    unknown = sorted(set(document) - set(MATCH_FIELDS))
    if unknown:
        raise HTTPException(400, f"unknown field {unknown[0]!r}; expected {', '.join(MATCH_FIELDS)}")
    query, response = document.get("query"), document.get("response")
    if not isinstance(query, str):
        raise HTTPException(400, '"query" must be a string' if "query" in document else '"query" is required')
    if not query.strip():
        raise HTTPException(400, '"query" is empty or only white space: there is nothing to match')
    if response is not None and not isinstance(response, str):
        raise HTTPException(400, '"response" must be a string or null')
    return without_lone_surrogates(query), without_lone_surrogates(response) if response is not None else None


class ServingState:
    """What one worker process serves from: the reloader, the serving log, the token."""

    def __init__(self, options: ServeOptions, reloader: FolderReloader | None = None) -> None:
        # One BLAS thread for the whole process (after numpy is loaded, or it has no effect): a single
        # query's products are tiny, and OpenBLAS's second thread spinning for them made each decision
        # 30 ms instead of 1 ms on a busy 2-core machine. Concurrency comes from requests and workers.
        ThreadpoolController().limit(limits=1, user_api="blas")
        # While the reloader thread parses a changed folder it holds the GIL; requests get it back within
        # the switch interval (default 5 ms, and a request re-acquires it several times): 0.5 ms keeps
        # them near their usual latency during a reload.
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        self.options = options
        self.token = read_token(options.token_file).encode("utf-8") if options.token_file else None
        self.reloader = reloader or build_reloader(options)
        self.serving_log = ServingLog(Path(options.log_dir)) if options.log_dir else None

    def authorize(self, request: Request) -> None:
        if self.token is None:
            return
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode("utf-8"), self.token):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    def health(self) -> dict[str, Any]:
        error = self.reloader.last_error
        serving_log = self.serving_log
        return {
            "status": "ok" if error is None else "stale",
            **self.reloader.current.describe(),
            "last_reload_error": error.describe() if error else None,
            "reloads": self.reloader.reloads,
            "serving_log": None if serving_log is None else {"errors": serving_log.errors,
                                                             "last_error": serving_log.last_error},
            "worker": os.getpid(),
        }


def build_reloader(options: ServeOptions) -> FolderReloader:
    documents = DocumentCache()  # a reload re-parses only the files that changed
    return FolderReloader(lambda: load_served_folder(options.config_file, options.remediations_dir, documents),
                          lambda: watched_fingerprint(options.config_file, options.remediations_dir),
                          poll_seconds=options.poll_seconds)


def create_app(options: ServeOptions, reloader: FolderReloader | None = None) -> Starlette:
    """The application for one worker: loads the folder now (InputError if it is invalid)."""
    state = ServingState(options, reloader)

    async def match(request: Request) -> Response:
        state.authorize(request)
        query, response = parse_match_request(await read_body(request))
        served = state.reloader.current  # one folder for the whole request, whatever a reload does meanwhile
        decision = plain(explain_query(served.matcher, query, response, encode=served.encode))
        log_id = None
        if state.serving_log is not None:
            log_id = state.serving_log.append(decision, response=response, revision=served.revision,
                                              fields=served.log_fields)
        return json_response({**decision, "log_id": log_id})

    async def health(request: Request) -> Response:
        state.authorize(request)
        return json_response(state.health())

    async def remediations(request: Request) -> Response:
        state.authorize(request)
        entries = sorted(state.reloader.current.matcher.by_id.values(), key=lambda r: r.id)
        return json_response({"remediations": [{"id": r.id, "kind": r.kind, "status": r.status} for r in entries]})

    async def reload(request: Request) -> Response:
        if state.token is None:
            raise HTTPException(403, "reloading on request needs a token: start the server with --token-file "
                                     "(the folder is also reloaded by itself when its files change)")
        state.authorize(request)
        await read_body(request)
        swapped = await run_in_threadpool(state.reloader.check, force=True)
        return json_response({"reloaded": swapped, **state.health()})

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return json_response({"error": error.detail}, error.status_code, dict(error.headers or {}))

    async def internal_error(request: Request, error: Exception) -> Response:
        log.error("internal error on %s %s: %s: %s", request.method, request.url.path, type(error).__name__, error)
        return json_response({"error": "internal error (the server log has the details)"}, 500)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.reloader.start()
        try:
            yield
        finally:
            state.reloader.stop()

    routes = [Route("/v1/match", match, methods=["POST"]), Route("/v1/health", health, methods=["GET"]),
              Route("/v1/remediations", remediations, methods=["GET"]), Route("/v1/reload", reload, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan,
                     exception_handlers={HTTPException: http_error, Exception: internal_error})


def app_from_environment() -> Starlette:
    """uvicorn's factory in each worker process: the options come from the parent's environment."""
    logging.basicConfig(stream=sys.stderr, format="remedy: %(message)s", level=logging.WARNING)  # as the CLI does
    use_a_thread_lock_for_progress_bars()
    options = ServeOptions.from_environment()
    slow_clients.limit_seconds = options.request_timeout  # this worker's protocol reads it
    return create_app(options)


def use_a_thread_lock_for_progress_bars() -> None:
    """Give tqdm a thread lock before anything encodes, so a worker creates no named semaphore.

    model2vec's `encode` opens a tqdm bar (disabled) on every call, and tqdm's first bar creates its
    default write lock, a `multiprocessing.RLock`. A uvicorn worker is a *spawned* process, where that
    lock is a named POSIX semaphore registered with the parent's resource tracker; Python unlinks it at
    exit, but uvicorn ends a worker by re-raising the SIGTERM it handled once the graceful shutdown is
    done, so the worker dies by the signal, no exit handler runs, and the tracker reported
    "2 leaked semaphore objects" when `remedy serve --workers 2` stopped. Bars are never shown here and
    no other process writes them: a thread lock is all tqdm needs (its documented `set_lock`).
    """
    import threading

    try:
        from tqdm import tqdm
    except ImportError:  # model2vec without tqdm: no lock to make
        return
    tqdm.set_lock(threading.RLock())
