"""The outermost layer of the app: which Host it answers, the headers every answer carries, and a
count of answers by status (500s included, which the routes never see).

The Host check is the defence against DNS rebinding: a web page on evil.example whose name is made
to resolve to 127.0.0.1 reaches a loopback server from the visitor's browser, but its requests
still say `Host: evil.example`. Answering only the names the server is known by stops it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from prometheus_client import Counter
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..views.report.html import CSP
from .auth import bound_addresses

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# /healthz answers probes that use the pod's or container's address, whatever it is.
UNCHECKED_PATHS = ("/healthz",)
# The API docs page loads Swagger UI from a CDN; every other page loads nothing from anywhere.
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}
PAGE_CSP = f"{CSP}; frame-ancestors 'none'"
DOCS_CSP = "frame-ancestors 'none'"


def _normal(name: str) -> str:
    """A host name or address as compared: lower case, no trailing dot, IPv6 in brackets."""
    name = name.strip().lower().rstrip(".")
    bare = name.strip("[]")
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return name
    return f"[{address}]" if address.version == 6 else str(address)


def host_of(header: str) -> str:
    """The name in a Host header, without its port: `[::1]:8080` -> `[::1]`, `a.example:80` -> `a.example`."""
    value = header.strip()
    if value.startswith("["):
        end = value.find("]")
        return _normal(value[: end + 1]) if end > 0 else _normal(value)
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return _normal(value)


def default_hosts(host: str) -> list[str]:
    """What a server bound to `host` is called when nothing is configured: the bound name or address,
    and for every interface ("", 0.0.0.0, ::) the machine's own name, full name and their addresses."""
    names = [host] if host.strip() else []
    if not host.strip() or any(ipaddress.ip_address(a).is_unspecified for a in bound_addresses(host)):
        for name in {socket.gethostname(), socket.getfqdn()}:
            names.append(name)
            names.extend(bound_addresses(name))
    return names


def allowed_hosts(configured: Iterable[str] | None, host: str) -> list[str]:
    """The Host values answered: loopback names always, then `[server] allowed_hosts` when set, else
    the defaults for the bound host. `*` allows any Host; `*.example.com` any name under example.com."""
    chosen = list(configured) if configured else default_hosts(host)
    return list(dict.fromkeys(_normal(h) for h in (*LOOPBACK_NAMES, *chosen) if h.strip()))


class Guard:
    def __init__(self, app: ASGIApp, *, responses: Counter, allowed_hosts: list[str] | None) -> None:
        self.app = app
        self.responses = responses
        self.any_host = allowed_hosts is None or "*" in allowed_hosts
        self.exact = {_normal(h) for h in allowed_hosts or () if not h.startswith("*.")}
        self.suffixes = tuple(_normal(h)[1:] for h in allowed_hosts or () if h.startswith("*."))

    def host_allowed(self, scope: Scope) -> bool:
        if self.any_host or scope["path"] in UNCHECKED_PATHS:
            return True
        header = next((v for k, v in scope["headers"] if k == b"host"), None)
        if header is None:
            return False
        name = host_of(header.decode("latin-1"))
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        csp = DOCS_CSP if scope["path"] in DOCS_PATHS else PAGE_CSP

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("content-security-policy", csp)
                self.responses.labels(str(message["status"])).inc()
            await send(message)

        if not self.host_allowed(scope):
            body = b"this server does not answer to that Host; add the name to [server] allowed_hosts\n"
            await send_with_headers({"type": "http.response.start", "status": 400, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:  # Starlette's error middleware, outside this one, answers 500
                self.responses.labels("500").inc()
            raise
