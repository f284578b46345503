"""What `remedy serve` was asked to do, checked once, and handed to every worker process.

Safe by default: loopback only unless a token file protects the server (or `--insecure` says the
operator knows better); a token file must hold a token.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path

from remedy.errors import UsageError

ENVIRONMENT_VARIABLE = "REMEDY_SERVE_OPTIONS"  # how the parent hands the options to uvicorn's worker processes
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8484
    workers: int = 1
    token_file: str | None = None
    log_dir: str | None = None
    insecure: bool = False
    poll_seconds: float = 0.5
    request_timeout: float = 10.0  # seconds a client has for a request's headers, and again for its body
    config_file: str | None = None  # the global --config, absolute
    remediations_dir: str | None = None  # the global --remediations, absolute

    def to_environment(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_environment(cls) -> ServeOptions:
        raw = os.environ.get(ENVIRONMENT_VARIABLE)
        if not raw:
            raise UsageError(f"{ENVIRONMENT_VARIABLE} is not set: start the server with `remedy serve`")
        return cls(**json.loads(raw))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def check_options(options: ServeOptions) -> None:
    """Refuse what would be unsafe or cannot work; UsageError (exit 2) says what to do instead."""
    if not is_loopback(options.host) and options.token_file is None and not options.insecure:
        raise UsageError(f"--host {options.host} is not a loopback address: anyone who can reach it could query "
                         "the server; give --token-file FILE (clients send `Authorization: Bearer <token>`), "
                         "or --insecure if the network is yours alone")
    if not 0 <= options.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {options.port}")
    if options.workers < 1:
        raise UsageError(f"--workers must be at least 1, not {options.workers}")
    if options.poll_seconds < 0:
        raise UsageError(f"--poll must be 0 (no polling) or a number of seconds, not {options.poll_seconds}")
    if not options.request_timeout > 0:
        raise UsageError(f"--request-timeout must be a positive number of seconds, not {options.request_timeout}")
    if options.token_file is not None:
        read_token(options.token_file)
    if options.log_dir is not None:
        log_dir = Path(options.log_dir)
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"--log-dir {log_dir}: cannot create it ({error.strerror})") from None
        if not os.access(log_dir, os.W_OK):
            raise UsageError(f"--log-dir {log_dir}: not writable")


def read_token(token_file: str) -> str:
    """The bearer token: the file's content without surrounding whitespace."""
    try:
        token = Path(token_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise UsageError(f"--token-file {token_file}: cannot read it ({reason})") from None
    if len(token) < MIN_TOKEN_LENGTH or any(ch.isspace() for ch in token):
        raise UsageError(f"--token-file {token_file}: expected one token of at least {MIN_TOKEN_LENGTH} characters "
                         "without spaces (e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
    return token
