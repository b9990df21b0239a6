"""Rule-lint checks: each has an id, a default severity, a one-line explanation and a fix.

A check looks at one rule group at a time (duplicate-alert needs the whole group) and yields
(line, message, rule name). Recording rules only get promql-invalid: the other checks are
about what a human paged at night needs, which a recording rule never does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser

from ..model import SEVERITIES, Finding
from ..safe_load import MAX_DEPTH, clip, too_deep_at
from ..sources.rules import Rule, RuleGroup, duration_ms
from .settings import CheckSettings

__all__ = ["CHECKS", "SEVERITIES", "Check", "Finding"]  # Finding and SEVERITIES live in fireline.model

COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
ABSENCE_FUNCTIONS = {"absent", "absent_over_time"}
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)


Hit = tuple[int, str, str | None]  # line, message, rule name


@dataclass
class Context:
    file: Path
    repo_root: Path | None
    # Parsed expressions by text: promql-invalid and always-fires share one parse per expr.
    _parsed: dict[str, Any] = field(default_factory=dict)

    def parse(self, expr: str) -> Any:
        """The expression's tree, or the ValueError promql_parser raised for it (or the depth check)."""
        if expr not in self._parsed:
            try:
                check_nesting(expr)  # promql_parser overflows its stack on deep nesting (a crash, not an error)
                self._parsed[expr] = promql_parser.parse(expr)
            except ValueError as exc:
                self._parsed[expr] = exc
        return self._parsed[expr]


# String literals ("...", '...' with escapes, `...` raw) and comments, skipped; brackets counted.
_PROMQL_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`|#[^\n]*|[()\[\]{}]')


def check_nesting(expr: str) -> None:
    """ValueError when parentheses, brackets and braces outside string literals nest deeper than
    safe_load.MAX_DEPTH: promql_parser recurses per level and crashes the process (SIGSEGV) long before
    it reports an error."""
    at = too_deep_at(expr, _PROMQL_TOKENS, "([{", ")]}")
    if at is not None:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels of parentheses, brackets or braces "
                         f"(at character {at + 1})")


@dataclass(frozen=True)
class Check:
    id: str
    severity: str
    summary: str
    fix: str
    run: Callable[[RuleGroup, Any, Context], Iterator[Hit]]


def _alerts(group: RuleGroup) -> Iterator[Rule]:
    return (r for r in group.rules if r.kind == "alert")


def promql_invalid(group: RuleGroup, opts: CheckSettings, ctx: Context) -> Iterator[Hit]:
    for rule in group.rules:
        if rule.expr is None:
            continue  # a missing expr is already a rule-file-invalid finding
        tree = ctx.parse(rule.expr)
        if isinstance(tree, ValueError):
            # promql_parser gives no position, so we point at the expr field itself.
            yield rule.line_of("expr"), f"{rule.kind} {rule.name!r}: invalid PromQL: {tree}", rule.name


def annotations_missing(group: RuleGroup, opts: Any, ctx: Context) -> Iterator[Hit]:
    for rule in _alerts(group):
        missing = [a for a in opts.required if not rule.annotations.get(a, "").strip()]
        if missing:
            line = rule.line_of("annotations")
            yield line, f"alert {rule.name!r} has no {' or '.join(missing)} annotation", rule.name


# An action word counts only where an instruction starts: at a sentence start or after
# "please", "should", "need to"... so "run by argo" or "no free memory" state no next step.
_INSTRUCTION_START = r"(?:^|[.!?:;\n-]\s*|\b(?:please|should|must|need to|needs to|try to|you can)\s+)"


def _states_action(text: str, actions: list[str]) -> bool:
    prose = _TEMPLATE.sub(" ", text).strip()  # `{{ $labels.run }}` must not count as "run"
    return any(re.search(rf"{_INSTRUCTION_START}{re.escape(a)}\b", prose, re.IGNORECASE | re.MULTILINE)
               for a in actions)


def _is_file(base: Path, name: str) -> bool:
    try:
        return (base / name).is_file()
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL byte
        return False


def runbook_missing(group: RuleGroup, opts: Any, ctx: Context) -> Iterator[Hit]:
    for rule in _alerts(group):
        url = rule.annotations.get(opts.annotation, "").strip()
        if url:
            base = ctx.repo_root or ctx.file.parent
            if _URL.match(url) or "{{" in url or _is_file(base, url):
                continue
            yield (rule.annotation_lines.get(opts.annotation, rule.line),
                   f"alert {rule.name!r}: {opts.annotation} {clip(url)} is neither an http(s) URL "
                   f"nor a file under {base}", rule.name)
        elif not _states_action(rule.annotations.get("description", ""), opts.actions):
            yield (rule.line, f"alert {rule.name!r} does not say what to do: add a {opts.annotation} "
                   "annotation or a next step in its description", rule.name)


def severity_label(group: RuleGroup, opts: Any, ctx: Context) -> Iterator[Hit]:
    for rule in _alerts(group):
        value = rule.labels.get(opts.label)
        if value is None:
            yield rule.line_of("labels"), f"alert {rule.name!r} has no {opts.label} label", rule.name
        elif value == "none" and meant_to_fire(rule, ctx):
            continue  # a heartbeat or an inhibitor is routed nowhere on purpose
        elif value not in opts.allowed:
            yield (rule.label_lines.get(opts.label, rule.line),
                   f"alert {rule.name!r}: {opts.label} {value!r} is not one of {', '.join(opts.allowed)}", rule.name)


def for_missing(group: RuleGroup, opts: Any, ctx: Context) -> Iterator[Hit]:
    minimum = duration_ms(opts.min_for) or 0
    for rule in _alerts(group):
        severity = rule.labels.get("severity")
        if severity not in opts.paging:
            continue
        if rule.for_ is None:
            yield rule.line, f"paging alert {rule.name!r} ({severity}) has no `for`: one bad scrape pages", rule.name
        elif (duration_ms(rule.for_) or 0) < minimum:
            yield (rule.line_of("for"), f"paging alert {rule.name!r} ({severity}) has `for: {rule.for_}`, "
                   f"shorter than {opts.min_for}", rule.name)


def _conditional(tree: Any) -> bool:
    """True when the expression can be empty: it compares (without `bool`) or tests absence."""
    found = False

    def visit(node: Any) -> bool:
        nonlocal found
        if isinstance(node, promql_parser.BinaryExpr) and str(node.op) in COMPARISONS:
            # `x > bool 5` returns 0 or 1 for every series, so it never filters anything out.
            if not (node.modifier is not None and node.modifier.return_bool):
                found = True
        elif isinstance(node, promql_parser.Call) and node.func.name in ABSENCE_FUNCTIONS:
            found = True
        return not found  # stop walking once we know

    promql_parser.walk(tree, visit)
    return found


# Words of an alert that fires on purpose: a heartbeat through the whole pipeline (kube-prometheus'
# Watchdog, a dead man's switch) or an inhibitor routed to a null receiver (InfoInhibitor).
_ON_PURPOSE = re.compile(r"\b(always\s+(be\s+)?fir(e|es|ing)|dead\s*man'?s?\s*(switch|snitch)|watchdog|heartbeat"
                         r"|inhibit(s|or|ed)?)\b", re.IGNORECASE)


def _constant(tree: Any) -> bool:
    """True when the expression reads no series at all (`vector(1)`): it can only mean "always"."""
    selectors = False

    def visit(node: Any) -> bool:
        nonlocal selectors
        selectors = selectors or isinstance(node, promql_parser.VectorSelector | promql_parser.MatrixSelector)
        return not selectors

    promql_parser.walk(tree, visit)
    return not selectors


def meant_to_fire(rule: Rule, ctx: Context) -> bool:
    """An alert built to fire (or to inhibit): a constant expression, or annotations that say so."""
    tree = ctx.parse(rule.expr) if rule.expr is not None else None
    if tree is not None and not isinstance(tree, ValueError) and _constant(tree):
        return True
    return any(_ON_PURPOSE.search(_TEMPLATE.sub(" ", text)) for text in rule.annotations.values())


def always_fires(group: RuleGroup, opts: CheckSettings, ctx: Context) -> Iterator[Hit]:
    for rule in _alerts(group):
        if rule.expr is None:
            continue
        tree = ctx.parse(rule.expr)
        if not isinstance(tree, ValueError) and not _conditional(tree) and not meant_to_fire(rule, ctx):
            yield (rule.line_of("expr"), f"alert {rule.name!r} fires for every series: its expression has "
                   "no comparison and no absent()", rule.name)


def duplicate_alert(group: RuleGroup, opts: CheckSettings, ctx: Context) -> Iterator[Hit]:
    # One alert name with several thresholds (a warning/critical pair, burn-rate windows) is the usual
    # way to write them; only the same name with the same labels makes alerts nobody can tell apart.
    first: dict[tuple[str | None, frozenset[tuple[str, str]]], int] = {}
    for rule in _alerts(group):
        key = (rule.name, frozenset(rule.labels.items()))
        if key in first:
            yield (rule.line, f"alert {rule.name!r} is defined twice in group {group.name!r} with the same labels "
                   f"(first on line {first[key]}): their alerts cannot be told apart", rule.name)
        else:
            first[key] = rule.line


def owner_label(group: RuleGroup, opts: Any, ctx: Context) -> Iterator[Hit]:
    for rule in _alerts(group):
        if opts.required:  # `[alerts] require_labels`: each one
            missing = [k for k in opts.required if not (rule.labels.get(k) or group.labels.get(k))]
            if missing:
                yield (rule.line_of("labels"), f"alert {rule.name!r} has no {', '.join(missing)} label"
                       f"{'s' if len(missing) > 1 else ''}", rule.name)
        elif not any(rule.labels.get(k) or group.labels.get(k) for k in opts.labels):
            yield rule.line_of("labels"), f"alert {rule.name!r} has no {' or '.join(opts.labels)} label", rule.name


def unbalanced(text: str) -> bool:
    depth = 0
    for token in re.findall(r"\{\{|\}\}", text):
        depth += 1 if token == "{{" else -1
        if depth < 0 or depth > 1:  # `}}` before `{{`, or a `{{` inside an action
            return True
    return depth != 0


def template_unbalanced(group: RuleGroup, opts: CheckSettings, ctx: Context) -> Iterator[Hit]:
    for rule in _alerts(group):
        for kind, values, lines in (("annotation", rule.annotations, rule.annotation_lines),
                                    ("label", rule.labels, rule.label_lines)):
            for key, value in values.items():
                if unbalanced(value):
                    yield (lines.get(key, rule.line), f"alert {rule.name!r}: {kind} {key!r} has unbalanced "
                           "`{{` / `}}`", rule.name)


def _never(group: RuleGroup, opts: Any, ctx: Context) -> Iterator[Hit]:
    return iter(())  # rule-file-invalid findings come from the loader, not from a check


CHECKS: dict[str, Check] = {c.id: c for c in (
    Check("rule-file-invalid", "error", "The file is not valid YAML or not a valid Prometheus rule file.",
          "Fix the YAML or the rule structure; Prometheus would refuse to load this file.", _never),
    Check("promql-invalid", "error", "The rule's expr is not valid PromQL.",
          "Fix the expression; try it in the Prometheus expression browser.", promql_invalid),
    Check("annotations-missing", "warning", "The alert lacks a summary or description annotation.",
          "Add `summary` (one line) and `description` (what is wrong, with values).", annotations_missing),
    Check("runbook-missing", "warning", "The alert does not say what to do next.",
          "Add a `runbook_url` (http(s) or a file in the repo) or a next step in the description.",
          runbook_missing),
    Check("severity-label", "warning", "The alert's severity label is missing or not an agreed value.",
          "Set `severity` to one of the allowed values so routing works.", severity_label),
    Check("for-missing", "warning", "A paging alert fires on the first evaluation (no or short `for`).",
          "Add `for: 5m` (or longer) so one bad scrape does not wake someone.", for_missing),
    Check("always-fires", "error", "The alert's expression has no comparison and no absent(): it always fires "
          "(alerts meant to, such as a Watchdog, are left alone).",
          "Add a threshold (e.g. `> 0.05`) or use absent() for missing-data alerts.", always_fires),
    Check("duplicate-alert", "warning", "The same alert name with the same labels appears twice in one group.",
          "Rename one or merge them; duplicates confuse silences and routing.", duplicate_alert),
    Check("owner-label", "info", "The alert lacks a label the organisation requires ([alerts] require_labels).",
          "Add a `team` (or `owner`) label so the page reaches the people who can act.", owner_label),
    Check("template-unbalanced", "error", "An annotation or label has unbalanced `{{` / `}}`.",
          "Close every `{{` with `}}`; Prometheus fails to expand the template.", template_unbalanced),
)}
