"""`[alerts]` settings: which rule-lint checks run, how severe they are, and their parameters.

Keys under `[alerts.checks.<check-id>]` are the check ids themselves (as in SARIF and the
text output), so a finding tells you which table to edit. Unknown keys are refused: a typo
must not silently leave a check on.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..config import validate_section
from ..errors import UserError
from ..sources.rules import duration_ms

Severity = Literal["error", "warning", "info"]


class CheckSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    enabled: bool = True
    severity: Severity | None = None  # None: the check's default severity


class AnnotationsSettings(CheckSettings):
    required: list[str] = Field(default_factory=lambda: ["summary", "description"])


class RunbookSettings(CheckSettings):
    annotation: str = "runbook_url"
    # Words that make a description say what to do next; matched as whole words, case-insensitive.
    actions: list[str] = Field(default_factory=lambda: [
        "check", "restart", "run", "scale", "page", "see", "investigate", "inspect", "verify", "roll back",
        "rollback", "escalate", "contact", "increase", "reduce", "free", "drain", "follow", "open", "call",
    ])


class SeverityLabelSettings(CheckSettings):
    label: str = "severity"
    allowed: list[str] = Field(default_factory=lambda: ["critical", "warning", "info", "page", "ticket"])


class ForMissingSettings(CheckSettings):
    paging: list[str] = Field(default_factory=lambda: ["critical", "page"])
    # A paging alert must wait at least this long: `for: 0m` wakes someone on a single scrape.
    min_for: str = "1m"


class OwnerLabelSettings(CheckSettings):
    # Off unless the organisation uses such labels: `[alerts] require_labels` turns it on.
    enabled: bool = False
    # With `enabled = true` alone: one of these labels is enough.
    labels: list[str] = Field(default_factory=lambda: ["owner", "team"])
    # Filled from `[alerts] require_labels`: each of these is required.
    required: list[str] = Field(default_factory=list)


class ChecksSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    promql_invalid: CheckSettings = Field(default_factory=CheckSettings, alias="promql-invalid")
    annotations_missing: AnnotationsSettings = Field(default_factory=AnnotationsSettings,
                                                     alias="annotations-missing")
    runbook_missing: RunbookSettings = Field(default_factory=RunbookSettings, alias="runbook-missing")
    severity_label: SeverityLabelSettings = Field(default_factory=SeverityLabelSettings, alias="severity-label")
    for_missing: ForMissingSettings = Field(default_factory=ForMissingSettings, alias="for-missing")
    always_fires: CheckSettings = Field(default_factory=CheckSettings, alias="always-fires")
    duplicate_alert: CheckSettings = Field(default_factory=CheckSettings, alias="duplicate-alert")
    owner_label: OwnerLabelSettings = Field(default_factory=OwnerLabelSettings, alias="owner-label")
    template_unbalanced: CheckSettings = Field(default_factory=CheckSettings, alias="template-unbalanced")

    def get(self, check_id: str) -> CheckSettings | None:
        return getattr(self, check_id.replace("-", "_"), None)


class AlertSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checks: ChecksSettings = Field(default_factory=ChecksSettings)
    # Labels every alert must carry (on the rule or its group), e.g. ["team"]; none by default.
    require_labels: list[str] = Field(default_factory=list)

    @field_validator("require_labels")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.strip():
                raise ValueError("a label name must not be empty")
        return value


def _analytics_keys() -> set[str]:
    import dataclasses

    from ..metrics.alert_params import AlertParams  # late: only the key names are needed

    return {f.name for f in dataclasses.fields(AlertParams)} - {"now"}


def load(alerts: dict[str, Any] | None, source: str | None = None) -> AlertSettings:
    """Validate `config.alerts`; errors name the full key, e.g. `alerts.checks.runbook-missing.enabled`."""
    alerts = dict(alerts or {})
    # `[alerts]` is shared with the alert analytics report (fireline.metrics.alerts), which
    # validates its own keys; everything else must be ours, so typos are still refused.
    for key in _analytics_keys() & alerts.keys():
        del alerts[key]
    settings = validate_section(AlertSettings, alerts, "alerts", source)
    owner = settings.checks.owner_label
    if settings.require_labels:
        owner.required = list(settings.require_labels)
        if "enabled" not in owner.model_fields_set:  # an explicit `enabled = false` still wins
            owner.enabled = True
    if duration_ms(settings.checks.for_missing.min_for) is None:
        raise UserError(f"not a duration: {settings.checks.for_missing.min_for!r}",
                        where="alerts.checks.for-missing.min_for")
    return settings
