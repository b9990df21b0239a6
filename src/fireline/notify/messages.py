"""The neutral message: built once from the figures, rendered per channel (`render`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal


def jsonable(value: Any) -> Any:
    """Dates and times as ISO 8601 text, recursively: what a JSON body and the store's record hold."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class Section:
    """A heading, a paragraph, label/value facts and a bulleted list (each optional)."""

    heading: str | None = None
    text: str | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Message:
    """What is sent. `key` makes it unique per channel in the store (a restart never sends it again)."""

    kind: str  # dora_digest, overdue_actions, handoff, unguarded_deploy, customer_first, test
    key: str
    title: str
    summary: str  # one line: notification previews, the mail subject's companion, chat fallbacks
    team: str | None = None
    level: Literal["info", "warning"] = "info"
    sections: list[Section] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # the figures, for the JSON webhook

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["sections"] = [{**s, "facts": [list(f) for f in s["facts"]]} for s in out["sections"]]
        return jsonable(out)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        sections = [Section(s.get("heading"), s.get("text"), [tuple(f) for f in s.get("facts", [])],
                            list(s.get("items", []))) for s in data.get("sections", [])]
        return cls(data["kind"], data["key"], data["title"], data["summary"], data.get("team"),
                   data.get("level", "info"), sections, data.get("data", {}))


def sample(team: str | None = None) -> Message:
    """What `fireline notify test` sends: every part of a message, so a channel shows how each renders."""
    return Message(
        "test", "test", "Fireline test message", "If you can read this, the channel works.", team,
        sections=[Section("Figures", facts=[("Lead time", "1.2 days (High)"), ("Change failure rate", "12% (High)")]),
                  Section("What it looks like", "A digest has sections like this one, with facts and items.",
                          items=["an item", "another item"])])
