"""Sending a rendered message: an HTTP POST to a webhook, or a mail over SMTP with STARTTLS."""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import UserError
from . import render
from .messages import Message
from .settings import Channel

USER_AGENT = "fireline-notify/1"


class SendError(Exception):
    """The receiver refused or could not be reached; `status` is its HTTP or SMTP code when it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _post(url: str, body: dict, timeout: float) -> None:
    if not url.startswith(("https://", "http://")):
        raise UserError("the webhook URL must start with https:// (or http:// for a receiver on this machine)")
    data = json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        answer = exc.read(2000).decode("utf-8", "replace").strip()
        raise SendError(f"HTTP {exc.code} {exc.reason}" + (f": {answer}" if answer else ""), exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendError(f"could not reach the receiver: {reason}") from None


def _mail(channel: Channel, message: Message) -> None:
    spec = channel.spec
    assert spec.smtp_host is not None and spec.sender is not None  # settings require them for email
    user = channel.secret("username_env")
    password = channel.secret("password_env")
    mail = render.email(message, spec.sender, spec.to)
    try:
        with smtplib.SMTP(spec.smtp_host, spec.smtp_port, timeout=spec.timeout_seconds) as smtp:
            if spec.starttls:
                cafile = str(Path(spec.ca_file)) if spec.ca_file else None
                smtp.starttls(context=ssl.create_default_context(cafile=cafile))
            if user and password:
                smtp.login(user, password)
            smtp.send_message(mail)
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise SendError(f"SMTP {exc.smtp_code}: {text}", exc.smtp_code) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"SMTP refused the recipients: {exc.recipients}") from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise SendError(f"could not send mail through {spec.smtp_host}:{spec.smtp_port}: {exc}") from None


def send(channel: Channel, message: Message) -> None:
    """Deliver `message` on `channel`; SendError when the receiver fails, UserError when config is incomplete
    (a secret's environment variable unset)."""
    if channel.kind == "email":
        _mail(channel, message)
        return
    url = channel.secret("url_env")
    assert url is not None
    _post(url, render.payload(channel.kind, message), channel.spec.timeout_seconds)


def preview(channel: Channel, message: Message) -> str:
    """What would be sent, as text: the JSON body of a webhook, or the mail with its headers."""
    if channel.kind == "email":
        assert channel.spec.sender is not None
        return render.email(message, channel.spec.sender, channel.spec.to).as_string()
    return json.dumps(render.payload(channel.kind, message), indent=2, ensure_ascii=False) + "\n"
