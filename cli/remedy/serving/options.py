"""What `remedy serve` was asked to do, checked once, and handed to every worker process.

Safe by default: loopback only unless a token file protects the server (or `--insecure` says the
operator knows better); a token file must hold a token.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from remedy.errors import UsageError

log = logging.getLogger("remedy")

ENVIRONMENT_VARIABLE = "REMEDY_SERVE_OPTIONS"  # how the parent hands the options to uvicorn's worker processes
MIN_TOKEN_LENGTH = 16
MAX_TOKEN_FILE_BYTES = 4096


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
        warning = token_file_warning(options.token_file)
        if warning:
            log.warning("%s", warning)
    if options.log_dir is not None:
        log_dir = Path(options.log_dir)
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"--log-dir {log_dir}: cannot create it ({error.strerror})") from None
        if not os.access(log_dir, os.W_OK):
            raise UsageError(f"--log-dir {log_dir}: not writable")


def read_token(token_file: str) -> str:
    """The bearer token: the file's content without surrounding whitespace.

    Only a regular file is read (a FIFO would block the start for good, a device could be endless), and
    it is opened without blocking so a file swapped for a FIFO after the check cannot hang either. The
    token must be printable ASCII: HTTP headers arrive as Latin-1, so a token with other characters was
    accepted at start and then never matched.
    """
    try:
        descriptor = os.open(token_file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise UsageError(f"--token-file {token_file}: cannot read it ({error.strerror})") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise UsageError(f"--token-file {token_file}: not a regular file (a FIFO, device or folder is never "
                             "read); write the token to a file")
        raw = os.read(descriptor, MAX_TOKEN_FILE_BYTES + 1)
    except OSError as error:
        raise UsageError(f"--token-file {token_file}: cannot read it ({error.strerror})") from None
    finally:
        os.close(descriptor)
    if len(raw) > MAX_TOKEN_FILE_BYTES:
        raise UsageError(f"--token-file {token_file}: over {MAX_TOKEN_FILE_BYTES} bytes; it must hold one token")
    try:
        token = raw.decode("utf-8").strip()
    except UnicodeDecodeError as error:
        raise UsageError(f"--token-file {token_file}: cannot read it (not UTF-8: {error})") from None
    if len(token) < MIN_TOKEN_LENGTH or any(ch.isspace() for ch in token):
        raise UsageError(f"--token-file {token_file}: expected one token of at least {MIN_TOKEN_LENGTH} characters "
                         "without spaces (e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
    unusable = next((ch for ch in token if not "!" <= ch <= "~"), None)
    if unusable is not None:
        raise UsageError(f"--token-file {token_file}: the token holds {unusable!r} (U+{ord(unusable):04X}); a bearer "
                         "token must be printable ASCII, as HTTP headers carry it (e.g. `python3 -c 'import "
                         "secrets; print(secrets.token_urlsafe(32))'`)")
    return token


def token_file_warning(token_file: str) -> str | None:
    """A warning when others than the owner may read the token file (as ssh says of a private key)."""
    try:
        mode = os.stat(token_file).st_mode
    except OSError:
        return None
    if mode & 0o077 == 0:
        return None
    who = "anyone on this machine" if mode & 0o004 else "the file's group"
    return (f"--token-file {token_file}: permissions {stat.S_IMODE(mode):04o} let {who} read the token; "
            f"`chmod 600 {token_file}`")
