"""Prometheus rule files (plain `groups:` files and Kubernetes PrometheusRule objects), with line numbers.

We compose YAML to nodes instead of `safe_load` because every finding must point at a line,
and we validate the structure the way Prometheus' rulefmt does (strict fields, duplicate
groups, record-vs-alert fields) so a file Prometheus would refuse is refused here too.
Problems are returned as data, never raised: one bad file must not hide the findings in the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .. import safe_load
from ..errors import UserError

RULE_SUFFIXES = (".yml", ".yaml")
GROUP_FIELDS = {"name", "interval", "query_offset", "limit", "rules", "labels"}
RULE_FIELDS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
# Prometheus' model.ParseDuration: units in descending order, each at most once, or a bare 0.
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_DURATION_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)
# Recording rule names become metric names, which must stay valid in the legacy charset.
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


@dataclass(frozen=True)
class Problem:
    """A reason Prometheus would refuse (part of) the file."""

    message: str
    line: int
    group: str | None = None
    rule: str | None = None


@dataclass
class Rule:
    kind: str  # "alert" or "record"
    name: str
    line: int
    expr: str | None = None
    for_: str | None = None
    keep_firing_for: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    field_lines: dict[str, int] = field(default_factory=dict)  # rule field -> line of its key
    label_lines: dict[str, int] = field(default_factory=dict)
    annotation_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int:
        return self.field_lines.get(key, self.line)


@dataclass
class RuleGroup:
    name: str
    line: int
    rules: list[Rule] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class RuleFile:
    path: Path
    groups: list[RuleGroup] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def rules(self) -> list[Rule]:
        return [r for g in self.groups for r in g.rules]


def duration_ms(text: str) -> int | None:
    """Milliseconds of a Prometheus duration, or None when Prometheus would refuse it."""
    if text == "0":
        return 0
    m = _DURATION.match(text)
    if not text or not m or not any(m.groups()):
        return None
    return sum(int(v) * unit for v, unit in zip(m.groups(), _DURATION_MS, strict=True) if v)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given; folders searched recursively for *.yml / *.yaml, in a stable order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in RULE_SUFFIXES))
        else:
            out.append(p)
    return out


def load_rule_files(paths: list[Path]) -> list[RuleFile]:
    return [load_rule_file(p) for p in expand_paths([Path(p) for p in paths])]


def load_rule_file(path: Path) -> RuleFile:
    rf = RuleFile(path=path)
    if not path.exists():
        rf.problems.append(Problem("file not found", 0))
        return rf
    try:
        text = safe_load.read_text(path, what="rule file")  # within the input size limit
    except UserError as exc:
        rf.problems.append(Problem(f"cannot read file: {safe_load.reason(exc)}", 0))
        return rf
    try:
        # compose_all is lazy: documents before a syntax error are still checked. The loader stops at
        # safe_load.MAX_DEPTH nested collections (PyYAML's composer recurses once per level).
        for doc in yaml.compose_all(text, Loader=safe_load.Loader):
            if doc is not None:
                _Parser(rf).document(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(s for s in (exc.context, exc.problem) if s)
        what = "YAML" if isinstance(exc, safe_load.YAMLLimitError) else "YAML syntax error"
        rf.problems.append(Problem(f"{what}: {reason}", mark.line + 1 if mark else 1))
    except yaml.YAMLError as exc:
        rf.problems.append(Problem(f"YAML error: {exc}", 1))
    return rf


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class _Parser:
    def __init__(self, rf: RuleFile) -> None:
        self.rf = rf
        self.seen_groups: dict[str, int] = {}
        self._constructor = safe_load.Constructor()

    def problem(self, message: str, node: Node, group: str | None = None, rule: str | None = None) -> None:
        self.rf.problems.append(Problem(message, _line(node), group, rule))

    def mapping(self, node: Node, what: str, **ctx: str | None) -> dict[str, tuple[Node, Node]] | None:
        """Keys to (key node, value node); refuses non-mappings and duplicate keys like yaml.v3 does."""
        if not isinstance(node, MappingNode):
            self.problem(f"{what} must be a mapping", node, **ctx)
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for k, v in node.value:
            key = str(k.value) if isinstance(k, ScalarNode) else repr(k)
            if key in out:
                self.problem(f"{what}: key {key!r} is defined twice (first on line {_line(out[key][0])})", k, **ctx)
            out[key] = (k, v)
        return out

    def scalar(self, node: Node, what: str, **ctx: str | None) -> str | None:
        if not isinstance(node, ScalarNode):
            self.problem(f"{what} must be a single value, not a list or mapping", node, **ctx)
            return None
        try:
            value: Any = self._constructor.construct_object(node)
        except ConstructorError as exc:
            self.problem(f"{what}: {exc.problem}", node, **ctx)
            return None
        return "" if value is None else str(value)

    def string_map(self, node: Node, what: str, **ctx: str | None) -> tuple[dict[str, str], dict[str, int]]:
        values: dict[str, str] = {}
        lines: dict[str, int] = {}
        if isinstance(node, ScalarNode) and node.value in ("", "~", "null"):
            return values, lines  # `labels:` with nothing under it is allowed
        for key, (k, v) in (self.mapping(node, what, **ctx) or {}).items():
            if what == "labels" and (key == "__name__" or not key):
                # Prometheus' rulefmt refuses these ("invalid label name"): a rule must not rename its series.
                self.problem(f"invalid label name {key!r}: " + ("a rule may not set the metric name" if key
                             else "a label name must not be empty"), k, **ctx)
                continue
            value = self.scalar(v, f"{what}.{key}", **ctx)
            if value is not None:
                values[key], lines[key] = value, _line(v)
        return values, lines

    def document(self, doc: Node) -> None:
        top = self.mapping(doc, "document")
        if top is None:
            return
        if "groups" in top:
            self.groups(top["groups"][1])
            return
        kind = self.scalar(top["kind"][1], "kind") if "kind" in top else None
        if kind == "PrometheusRule":
            spec = self.mapping(top["spec"][1], "spec") if "spec" in top else None
            if spec and "groups" in spec:
                self.groups(spec["groups"][1])
            else:
                self.problem("PrometheusRule without spec.groups", doc)
        elif kind is None:
            self.problem("not a rule file: expected a top-level `groups:` list or a PrometheusRule object", doc)
        # Other Kubernetes objects (ConfigMaps, Deployments...) in the same stream are not ours to judge.

    def groups(self, node: Node) -> None:
        if not isinstance(node, SequenceNode):
            self.problem("`groups` must be a list", node)
            return
        for g in node.value:
            self.group(g)

    def group(self, node: Node) -> None:
        fields = self.mapping(node, "group")
        if fields is None:
            return
        name = self.scalar(fields["name"][1], "group name") if "name" in fields else None
        for key, (k, _) in fields.items():
            if key not in GROUP_FIELDS:
                self.problem(f"group {name!r}: unknown field {key!r}", k, group=name)
        if not name:
            self.problem("group has no name", node)
            name = name or ""
        elif name in self.seen_groups:
            self.problem(f"group {name!r} is defined twice in this file (first on line {self.seen_groups[name]})",
                         node, group=name)
        else:
            self.seen_groups[name] = _line(node)
        for key in ("interval", "query_offset"):
            if key in fields:
                self.duration(fields[key][1], f"group {name!r}: {key}", group=name)
        group = RuleGroup(name=name, line=_line(node))
        if "labels" in fields:
            group.labels, _ = self.string_map(fields["labels"][1], "labels", group=name)
        self.rf.groups.append(group)
        if "rules" not in fields:
            return  # Prometheus accepts a group without rules
        rules = fields["rules"][1]
        if isinstance(rules, ScalarNode) and rules.value in ("", "~", "null"):
            return
        if not isinstance(rules, SequenceNode):
            self.problem(f"group {name!r}: `rules` must be a list", rules, group=name)
            return
        for r in rules.value:
            rule = self.rule(r, name)
            if rule is not None:
                group.rules.append(rule)

    def duration(self, node: Node, what: str, **ctx: str | None) -> str | None:
        value = self.scalar(node, what, **ctx)
        if value is not None and duration_ms(value) is None:
            self.problem(f"{what}: {value!r} is not a duration (e.g. 30s, 5m, 1h30m)", node, **ctx)
            return None
        return value

    def rule(self, node: Node, group: str) -> Rule | None:
        fields = self.mapping(node, "rule", group=group)
        if fields is None:
            return None
        alert = self.scalar(fields["alert"][1], "alert", group=group) if "alert" in fields else None
        record = self.scalar(fields["record"][1], "record", group=group) if "record" in fields else None
        name = alert or record or ""
        ctx: dict[str, str | None] = {"group": group, "rule": name or None}
        for key, (k, _) in fields.items():
            if key not in RULE_FIELDS:
                self.problem(f"rule {name!r}: unknown field {key!r}", k, **ctx)
        if "alert" in fields and "record" in fields:
            self.problem(f"rule {name!r} has both `alert` and `record`: a rule is one or the other", node, **ctx)
        elif not alert and not record:
            self.problem("rule has neither an `alert` nor a `record` name", node, **ctx)
        kind = "record" if "record" in fields and "alert" not in fields else "alert"
        rule = Rule(kind=kind, name=name, line=_line(node))
        rule.field_lines = {key: _line(k) for key, (k, _) in fields.items()}
        if kind == "record":
            if record and not _METRIC_NAME.match(record):
                self.problem(f"recording rule name {record!r} is not a valid metric name", fields["record"][1], **ctx)
            for key in ("for", "keep_firing_for", "annotations"):
                if key in fields:
                    self.problem(f"recording rule {name!r}: `{key}` is only for alerting rules", fields[key][0], **ctx)
        expr = self.scalar(fields["expr"][1], "expr", **ctx) if "expr" in fields else None
        if not (expr or "").strip():
            self.problem(f"rule {name!r} has no `expr`", fields["expr"][1] if "expr" in fields else node, **ctx)
            expr = None
        rule.expr = expr
        if "for" in fields:
            rule.for_ = self.duration(fields["for"][1], f"rule {name!r}: for", **ctx)
        if "keep_firing_for" in fields:
            rule.keep_firing_for = self.duration(fields["keep_firing_for"][1], f"rule {name!r}: keep_firing_for",
                                                 **ctx)
        if "labels" in fields:
            rule.labels, rule.label_lines = self.string_map(fields["labels"][1], "labels", **ctx)
        if "annotations" in fields:
            rule.annotations, rule.annotation_lines = self.string_map(fields["annotations"][1], "annotations", **ctx)
        return rule
