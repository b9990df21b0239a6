"""A `Message` as each channel wants it: Slack Block Kit, a Teams Adaptive Card, JSON, mail (text + HTML).

Formats follow their published references: Slack's Block Kit (at most 50 blocks; a section's text at
most 3000 characters, a field at most 2000 and 10 fields; a header's plain text at most 150) and the
envelope Teams incoming webhooks accept for an Adaptive Card (`{"type": "message", "attachments":
[{"contentType": "application/vnd.microsoft.card.adaptive", "content": {AdaptiveCard}}]}`).
Text from the store (titles, names) is escaped for each format: it may come from anyone's commit.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from typing import Any

from .messages import Message, Section

SLACK_MAX_BLOCKS = 50
SLACK_MAX_TEXT = 3000
SLACK_MAX_FIELD = 2000
SLACK_MAX_FIELDS = 10
SLACK_MAX_HEADER = 150
CARD_VERSION = "1.4"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn reads &, < and > as control characters (links, mentions): escape them.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_section(section: Section) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    lines = []
    if section.heading:
        lines.append(f"*{_slack_escape(section.heading)}*")
    if section.text:
        lines.append(_slack_escape(section.text))
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), SLACK_MAX_TEXT)}})
    for start in range(0, len(section.facts), SLACK_MAX_FIELDS):
        fields = [{"type": "mrkdwn", "text": _cut(f"*{_slack_escape(k)}*\n{_slack_escape(v)}", SLACK_MAX_FIELD)}
                  for k, v in section.facts[start:start + SLACK_MAX_FIELDS]]
        blocks.append({"type": "section", "fields": fields})
    if section.items:
        chunk: list[str] = []
        for item in section.items:
            line = "• " + _slack_escape(item)
            if chunk and len("\n".join([*chunk, line])) > SLACK_MAX_TEXT:
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
                chunk = []
            chunk.append(_cut(line, SLACK_MAX_TEXT))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
    return blocks


def slack(message: Message) -> dict[str, Any]:
    """A Slack incoming-webhook payload: `text` (the notification fallback) and `blocks`."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(message.title, SLACK_MAX_HEADER),
                                    "emoji": True}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(_slack_escape(message.summary),
                                                                          SLACK_MAX_TEXT)}]},
    ]
    for section in message.sections:
        blocks.append({"type": "divider"})
        blocks.extend(_slack_section(section))
    if len(blocks) > SLACK_MAX_BLOCKS:
        blocks = blocks[: SLACK_MAX_BLOCKS - 1]
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "… more in `fireline` "
                                                        "(this message reached Slack's 50 blocks)"}]})
    return {"text": _cut(f"{message.title}: {message.summary}", SLACK_MAX_TEXT), "blocks": blocks}


def _card_section(section: Section) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    if section.heading:
        items.append({"type": "TextBlock", "text": section.heading, "weight": "Bolder", "size": "Medium", "wrap": True})
    if section.text:
        items.append({"type": "TextBlock", "text": section.text, "wrap": True})
    if section.facts:
        items.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in section.facts]})
    if section.items:
        items.append({"type": "TextBlock", "text": "\n".join(f"- {i}" for i in section.items), "wrap": True})
    return {"type": "Container", "separator": True, "items": items}


def teams(message: Message) -> dict[str, Any]:
    """The message a Teams incoming webhook (or a Workflows webhook) posts: one Adaptive Card attachment."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": message.title, "weight": "Bolder", "size": "Large", "wrap": True,
         **({"color": "Attention"} if message.level == "warning" else {})},
        {"type": "TextBlock", "text": message.summary, "isSubtle": True, "wrap": True},
        *(_card_section(s) for s in message.sections),
    ]
    card = {"$schema": CARD_SCHEMA, "type": "AdaptiveCard", "version": CARD_VERSION, "body": body,
            "msteams": {"width": "Full"}}
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE, "contentUrl": None, "content": card}]}


def webhook(message: Message) -> dict[str, Any]:
    """The generic JSON webhook: the neutral message itself, versioned, with its figures under `data`."""
    return {"fireline": 1, **message.to_dict()}


def text(message: Message) -> str:
    out = [message.title, "=" * min(len(message.title), 72), "", message.summary]
    for section in message.sections:
        out.append("")
        if section.heading:
            out += [section.heading, "-" * min(len(section.heading), 72)]
        if section.text:
            out.append(section.text)
        width = max((len(k) for k, _ in section.facts), default=0)
        out += [f"{k.ljust(width)}  {v}" for k, v in section.facts]
        out += [f"- {i}" for i in section.items]
    return "\n".join(out) + "\n"


def _html(message: Message) -> str:
    e = html.escape
    parts = [f"<h2>{e(message.title)}</h2>", f"<p><em>{e(message.summary)}</em></p>"]
    for section in message.sections:
        if section.heading:
            parts.append(f"<h3>{e(section.heading)}</h3>")
        if section.text:
            parts.append(f"<p>{e(section.text)}</p>")
        if section.facts:
            rows = "".join(f"<tr><th align=\"left\">{e(k)}</th><td>{e(v)}</td></tr>" for k, v in section.facts)
            parts.append(f"<table>{rows}</table>")
        if section.items:
            parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in section.items) + "</ul>")
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>"


def email(message: Message, sender: str, to: list[str]) -> EmailMessage:
    """A multipart/alternative mail: plain text first, HTML second (clients show the last they can)."""
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail.set_content(text(message))
    mail.add_alternative(_html(message), subtype="html")
    return mail


def payload(kind: str, message: Message) -> dict[str, Any]:
    """The JSON body of a webhook channel (`slack`, `teams`, `webhook`)."""
    return {"slack": slack, "teams": teams, "webhook": webhook}[kind](message)
