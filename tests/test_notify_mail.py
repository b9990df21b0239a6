"""The mail channel against a real SMTP server on loopback (aiosmtpd) that requires STARTTLS and a login."""

from __future__ import annotations

import ssl
from email import message_from_bytes
from email.policy import default

import pytest
from typer.testing import CliRunner

from fireline.cli import app

from .notify_support import free_port, notify_world, self_signed

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402 (after the skip)
from aiosmtpd.smtp import AuthResult  # noqa: E402


class Inbox:
    def __init__(self) -> None:
        self.mails: list = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append((session.ssl is not None, envelope))
        return "250 OK"


@pytest.fixture
def smtp(tmp_path):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def login(server, session, envelope, mechanism, auth_data):
        # handled=False: aiosmtpd answers 535 itself on a failure
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"fireline", b"s3cret"), handled=False)

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=login, auth_required=True, auth_require_tls=True)
    controller.start()
    yield inbox, port, cert
    controller.stop()


def _mail_channel(port: int, cert, extra: str = "") -> str:
    return (f'[notify.mail]\nkind = "email"\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nca_file = "{cert}"\n'
            'username_env = "FL_SMTP_USER"\npassword_env = "FL_SMTP_PASSWORD"\nsender = "fireline@example.com"\n'
            f'to = ["data-team@example.com"]\nteams = ["Data"]\n{extra}')


def test_mail_goes_out_over_starttls_as_text_and_html(demo_org, tmp_path, smtp):
    inbox, port, cert = smtp
    db, config = notify_world(demo_org.directory, tmp_path, _mail_channel(port, cert))
    env = {"FL_SMTP_USER": "fireline", "FL_SMTP_PASSWORD": "s3cret"}
    res = CliRunner().invoke(app, ["notify", "send", "overdue_actions", "--at", "2026-05-18T09:00", "--db", db,
                                   "--config", config, "--json"], env=env)
    assert res.exit_code == 0, res.output
    ((encrypted, envelope),) = inbox.mails
    assert encrypted and envelope.mail_from == "fireline@example.com" and envelope.rcpt_tos == ["data-team@example.com"]
    mail = message_from_bytes(envelope.original_content, policy=default)
    assert mail["Subject"] == "Overdue action items: Data"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Tom Fletcher (1)" in text and "Alert when the purger has not succeeded for 26 hours" in text
    assert "<h3>Tom Fletcher (1)</h3>" in html


def test_a_wrong_password_is_a_failed_send_with_the_servers_answer(demo_org, tmp_path, smtp):
    inbox, port, cert = smtp
    _db, config = notify_world(demo_org.directory, tmp_path, _mail_channel(port, cert))
    env = {"FL_SMTP_USER": "fireline", "FL_SMTP_PASSWORD": "wrong"}
    res = CliRunner().invoke(app, ["notify", "test", "mail", "--config", config, "--json"], env=env)
    assert res.exit_code == 1
    assert "mail: SMTP 535: 5.7.8 Authentication credentials invalid" in res.output and inbox.mails == []
