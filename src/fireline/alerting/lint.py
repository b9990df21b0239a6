"""`fireline alerts lint`: load rule files, run the enabled checks, return findings (no printing)."""

from __future__ import annotations

from pathlib import Path

from ..sources.rules import RuleFile, load_rule_files
from .checks import CHECKS, Context, Finding
from .settings import AlertSettings

__all__ = ["Finding", "lint_files", "lint_paths"]


def _display(path: Path, repo_root: Path | None) -> str:
    """Paths relative to the repo root (or as given), so output is stable across machines."""
    if repo_root is not None:
        try:
            return path.resolve().relative_to(repo_root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def lint_files(files: list[RuleFile], settings: AlertSettings, repo_root: Path | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for rf in files:
        name = _display(rf.path, repo_root)
        invalid = CHECKS["rule-file-invalid"]
        for p in rf.problems:
            findings.append(Finding(invalid.id, invalid.severity, p.message, name, p.line, p.group, p.rule))
        ctx = Context(file=rf.path, repo_root=repo_root)
        for check in CHECKS.values():
            opts = settings.checks.get(check.id)
            if opts is None or not opts.enabled:
                continue
            severity = opts.severity or check.severity
            for group in rf.groups:
                for line, message, rule in check.run(group, opts, ctx):
                    findings.append(Finding(check.id, severity, message, name, line, group.name, rule))
    findings.sort(key=lambda f: (f.file, f.line, f.check_id))
    return findings


def lint_paths(paths: list[Path], settings: AlertSettings, repo_root: Path | None = None) -> list[Finding]:
    """Findings for every rule file under `paths`; bad files become findings, never exceptions."""
    return lint_files(load_rule_files([Path(p) for p in paths]), settings, repo_root)
