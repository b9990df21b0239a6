"""Is this request really from the sender it claims? Every comparison is constant-time."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from ..config import ServerConfig

ENV = {
    "github": "FIRELINE_GITHUB_SECRET",
    "gitlab": "FIRELINE_GITLAB_TOKEN",
    "pagerduty": "FIRELINE_PAGERDUTY_SECRET",
    "ingest": "FIRELINE_INGEST_TOKEN",
}
# Reading the dashboard is separate from writing: a viewer's token must not let them post events.
READ_ENV = "FIRELINE_READ_TOKEN"
READ_COOKIE = "fireline_read"
# Which secret guards which endpoint: Alertmanager and /events share the ingest token.
SECRET_OF = {"github": "github", "gitlab": "gitlab", "pagerduty": "pagerduty", "alertmanager": "ingest",
             "events": "ingest"}


@dataclass(frozen=True)
class Secrets:
    values: dict[str, str | None]

    @classmethod
    def load(cls, server: ServerConfig, environ: Mapping[str, str] | None = None) -> Secrets:
        environ = os.environ if environ is None else environ
        configured = {"github": server.github_secret, "gitlab": server.gitlab_token,
                      "pagerduty": server.pagerduty_secret, "ingest": server.ingest_token}
        return cls({name: environ.get(ENV[name]) or configured[name] for name in ENV})

    def for_source(self, source: str) -> str | None:
        return self.values[SECRET_OF[source]]

    def missing(self) -> list[str]:
        return [ENV[name] for name, value in self.values.items() if not value]

    def __repr__(self) -> str:  # never print a secret, even by accident
        return f"Secrets(configured={[n for n, v in self.values.items() if v]})"


def read_token(server: ServerConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The dashboard's read token: FIRELINE_READ_TOKEN, else [server] read_token."""
    environ = os.environ if environ is None else environ
    return environ.get(READ_ENV) or server.read_token or None


def bound_addresses(host: str) -> list[str]:
    """The addresses a server started with `--host host` listens on, resolved the way uvicorn binds.

    An empty host is every interface (asyncio's create_server, and 0.0.0.0 for several workers);
    a name is resolved, and a name that resolves to several addresses listens on all of them.
    An unresolvable name gives no address (the bind will fail; it is not loopback either)."""
    name = host.strip()
    if not name:
        return ["0.0.0.0", "::"]
    try:
        return [str(ipaddress.ip_address(name.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]).split("%")[0] for info in infos})


def is_loopback(host: str) -> bool:
    """True only when every address `host` binds to is a loopback address (`""` binds every interface)."""
    addresses = bound_addresses(host)
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def _hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _sha256_header_ok(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    # Bytes: compare_digest raises TypeError on a str holding non-ASCII, and a header may hold any byte.
    given = header.removeprefix("sha256=").strip().lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, _hmac_hex(secret, body).encode())


def verify(source: str, secret: str, body: bytes, headers: Mapping[str, str]) -> str | None:
    """None when authentic, else the reason for a 401 (never containing the secret)."""
    if source == "github":
        if _sha256_header_ok(secret, body, headers.get("x-hub-signature-256")):
            return None
        return "bad or missing X-Hub-Signature-256"
    if source == "gitlab":
        token = headers.get("x-gitlab-token") or ""
        return None if hmac.compare_digest(token.encode(), secret.encode()) else "bad or missing X-Gitlab-Token"
    if source == "pagerduty":
        from ..sources.webhooks.pagerduty import verify_signature

        header = headers.get("x-pagerduty-signature") or ""
        return None if verify_signature(secret, body, header) else "bad or missing X-PagerDuty-Signature"
    # Alertmanager and /events: a bearer token, or an HMAC of the body for senders that sign.
    auth = headers.get("authorization") or ""
    if auth.lower().startswith("bearer ") and hmac.compare_digest(auth[7:].strip().encode(), secret.encode()):
        return None
    if _sha256_header_ok(secret, body, headers.get("x-fireline-signature-256")):
        return None
    return "bad or missing bearer token (or X-Fireline-Signature-256)"
