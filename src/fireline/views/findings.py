"""Rule-lint findings as text, JSON or SARIF 2.1.0, and the exit code they imply."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path, PurePath
from typing import Protocol

from ..errors import UserError
from ..model import SEVERITIES, Finding
from .terminal import plain, plural


class Rule(Protocol):
    """What SARIF says of a check: its id, default severity, what it finds and how to fix it."""

    @property
    def id(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def fix(self) -> str: ...

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _summary(findings: list[Finding]) -> str:
    if not findings:
        return "no findings"
    by_sev = Counter(f.severity for f in findings)
    by_check = Counter(f.check_id for f in findings)
    sev = ", ".join(f"{by_sev[s]} {s}" for s in reversed(SEVERITIES) if by_sev[s])
    checks = ", ".join(f"{c} {n}" for c, n in sorted(by_check.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{plural(len(findings), 'finding')} ({sev}): {checks}"


def render_text(findings: list[Finding]) -> str:
    """`file:line: severity check-id: message`, grouped by file and sorted by line, then a summary."""
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_file[f.file].append(f)
    lines = []
    for file in sorted(by_file):
        for f in sorted(by_file[file], key=lambda f: (f.line, f.check_id)):
            # Names and values quoted from the files: control characters are shown, never sent to the terminal.
            lines.append(f"{plain(f.file)}:{f.line}: {f.severity} {f.check_id}: {plain(f.message)}")
    lines.append(_summary(findings))
    return "\n".join(lines) + "\n"


def render_json(findings: list[Finding]) -> str:
    """`{"findings": [...], "counts": {...}}`; each finding's keys are Finding's fields, so it round-trips."""
    return json.dumps({
        "findings": [asdict(f) for f in findings],
        "counts": dict(sorted(Counter(f.check_id for f in findings).items())),
    }, indent=2, ensure_ascii=False) + "\n"


def findings_from_json(text: str) -> list[Finding]:
    return [Finding(**d) for d in json.loads(text)["findings"]]


def _uri(file: str) -> str:
    """Relative paths stay relative (viewers resolve them against the checkout); absolute ones need file://."""
    path = PurePath(file)
    return Path(file).as_uri() if path.is_absolute() else path.as_posix()


def render_sarif(findings: list[Finding], rules: Iterable[Rule]) -> str:
    """SARIF 2.1.0, for GitHub code scanning and other viewers; file paths are used as relative URIs.
    `rules`: the checks that ran (each with id, severity, summary and fix)."""
    rule_list = list(rules)
    index = {r.id: i for i, r in enumerate(rule_list)}
    results = []
    for f in findings:
        result: dict = {
            "ruleId": f.check_id,
            "level": _SARIF_LEVEL.get(f.severity, "warning"),
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(f.file)},
                # SARIF lines start at 1; a file we could not even open has no line of its own.
                "region": {"startLine": max(f.line, 1)},
            }}],
            "properties": {k: v for k, v in (("group", f.group), ("rule", f.rule)) if v is not None},
        }
        if f.check_id in index:
            result["ruleIndex"] = index[f.check_id]
        results.append(result)
    driver = {
        "name": "fireline",
        "rules": [{
            "id": r.id,
            "name": r.id,
            "shortDescription": {"text": r.summary},
            "help": {"text": r.fix},
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
        } for r in rule_list],
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def exit_code(findings: list[Finding], fail_on: str = "warning") -> int:
    """1 when any finding is at or above `fail_on` (info < warning < error), else 0."""
    if fail_on not in SEVERITIES:
        raise UserError(f"unknown severity {fail_on!r}; choose one of {', '.join(SEVERITIES)}", where="--fail-on")
    threshold = SEVERITIES.index(fail_on)
    return int(any(SEVERITIES.index(f.severity) >= threshold for f in findings))
