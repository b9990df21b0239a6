"""`fireline postmortem lint`: load postmortem files, check them alone and together, return findings.

Findings reuse the alert-lint `Finding` record (so `views/findings.py` renders text, JSON and
SARIF for both): `group` holds the postmortem id and `rule` the action item ("action 2").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..alerting.checks import Check, Finding
from ..config import Config
from ..sources.postmortems import PostmortemDoc, closest, expand_paths, load_postmortem
from . import settings


def _no_run(*_: object):  # postmortem checks run in the parser and below, not per rule group
    return iter(())


def _check(id_: str, severity: str, summary: str, fix: str) -> Check:
    return Check(id_, severity, summary, fix, _no_run)


CHECKS: dict[str, Check] = {c.id: c for c in (
    _check("pm-file-unreadable", "error", "The postmortem file cannot be read.",
           "Check the path and save the file as UTF-8."),
    _check("pm-front-matter-missing", "error", "The file has no YAML front matter block.",
           "Start the file with a `---` line, the keys (id, title, date, ...), then another `---` line."),
    _check("pm-yaml-invalid", "error", "The front matter is not valid YAML, or a key is defined twice.",
           "Fix the YAML at the line shown (indentation, quotes, a missing colon)."),
    _check("pm-unknown-key", "warning", "A key Fireline does not know; it is ignored.",
           "Rename it to the key suggested, or remove it."),
    _check("pm-missing-field", "error", "A required key (id, title, date) is missing or empty.",
           "Add it to the front matter."),
    _check("pm-bad-date", "error", "A date or time is not in ISO 8601 format or is not a real date.",
           "Write dates as YYYY-MM-DD and times as 2026-05-16T01:40:00+01:00."),
    _check("pm-invalid-value", "error", "A value is of the wrong kind or not one of the allowed values.",
           "Use one of the values listed in the message."),
    _check("pm-duplicate-id", "error", "Two postmortem files use the same id.",
           "Give each postmortem its own id."),
    _check("pm-action-incomplete", "error", "An action item lacks WHO (owner), WHAT (what) or WHEN (due).",
           "Every action item says who does what by when."),
    _check("pm-unknown-owner", "error", "An action item's owner is neither a team nor a person in the config.",
           "Use a team name or a person listed under [people] in fireline.toml."),
    _check("pm-done-without-date", "error", "An action item is done but has no done_on date.",
           "Add done_on: the date it was finished (fireline followup measures from it)."),
    _check("pm-invalid-metric", "error", "dora_metric is not a DORA metric.",
           "Use deployment_frequency, lead_time, change_failure_rate, time_to_restore or none."),
    _check("pm-long-term-no-metric", "warning", "A long-term action item aims at no DORA metric.",
           "Name the DORA metric it should move, so fireline followup can check that it did."),
    _check("pm-unknown-incident", "error", "A referenced incident is not in the store.",
           "Fix the incident id, or ingest the incidents first."),
    _check("pm-no-action-items", "warning", "The postmortem has no action items yet.",
           "Add action items: owner, what, due, term, dora_metric."),
)}


@dataclass
class LintResult:
    findings: list[Finding]
    docs: list[PostmortemDoc]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


def display(path: Path, root: Path | None = None) -> str:
    """A path relative to `root` (default: the working directory) when inside it: stable across machines."""
    root = root or Path.cwd()
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def lint_docs(docs: list[PostmortemDoc], cfg: Config, known_incidents: Iterable[str] | None = None,
              root: Path | None = None) -> list[Finding]:
    """Findings for parsed files. `known_incidents` (None: not checked) are the store's incident ids."""
    findings: list[Finding] = []
    incidents = set(known_incidents) if known_incidents is not None else None
    check_owners = bool(cfg.team_names or cfg.people)
    owner_names = [*cfg.team_names, *cfg.people]
    first_seen: dict[str, tuple[str, int]] = {}

    def add(check_id: str, message: str, name: str, line: int, doc: PostmortemDoc, rule: str | None = None,
            severity: str | None = None) -> None:
        findings.append(Finding(check_id, severity or CHECKS[check_id].severity, message, name, line, doc.id, rule))

    for doc in docs:
        name = display(doc.path, root)
        for p in doc.problems:
            add(p.check_id, p.message, name, p.line, doc, None if p.item is None else f"action {p.item}", p.severity)
        if not doc.parsed:
            continue
        if doc.id:
            if doc.id in first_seen:
                other, line = first_seen[doc.id]
                add("pm-duplicate-id", f"id {doc.id!r} is also used by {other}:{line}", name, doc.line_of("id"), doc)
            else:
                first_seen[doc.id] = (name, doc.line_of("id"))
        if not doc.action_items:
            add("pm-no-action-items", "no action items yet: a postmortem is worth its action items (owner, what, "
                "due)", name, doc.line_of("action_items"), doc)
        for item in doc.action_items:
            if check_owners and item.owner and not settings.known_owner(cfg, item.owner):
                near = closest(item.owner, owner_names)
                hint = f" (did you mean {near!r}?)" if near else f" (teams: {', '.join(cfg.team_names) or 'none'})"
                add("pm-unknown-owner", f"action item {item.position}: owner {item.owner!r} is neither a team nor "
                    f"a person in the config{hint}", name, item.line_of("owner"), doc, f"action {item.position}")
        if incidents:
            for incident in doc.incidents:
                if incident not in incidents:
                    near = closest(incident, sorted(incidents))
                    hint = f" (did you mean {near!r}?)" if near else ""
                    add("pm-unknown-incident", f"incident {incident!r} is not in the store{hint}", name,
                        doc.line_of("incidents"), doc)
    findings.sort(key=lambda f: (f.file, f.line, f.check_id))
    return findings


def lint_paths(paths: list[Path], cfg: Config, known_incidents: Iterable[str] | None = None,
               root: Path | None = None) -> LintResult:
    """Findings for every postmortem under `paths`; bad files become findings, never exceptions."""
    docs = [load_postmortem(p, cfg.timezone) for p in expand_paths([Path(p) for p in paths])]
    return LintResult(lint_docs(docs, cfg, known_incidents, root), docs)
