"""`fireline alerts suggest`: the rules the talk's incident lacked, with runbook stubs.

The incident had no disk alert, and a batch job that failed silently for hours: it
alerted on errors only, so a job that stopped running raised nothing. These rules
cover disk usage and disk-fill prediction, a success heartbeat that is too old or
missing (the silent failure), and reported errors; each points at a runbook stub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import UserError


@dataclass(frozen=True)
class Suggestion:
    rules_file: Path
    runbooks: list[Path]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "service"


def _kebab(camel: str) -> str:
    return _slug(re.sub(r"(?<!^)([A-Z])", r"-\1", camel))


def _camel(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _rules(service: str, job: str, team: str, max_age_hours: float, runbooks: dict[str, str]) -> dict:
    name = _camel(service)
    fs = f'job="{job}",fstype!~"tmpfs|overlay|squashfs"'
    labels = {"service": service, "team": team}

    def rule(alert: str, expr: str, duration: str, severity: str, summary: str, description: str) -> dict:
        return {"alert": f"{name}{alert}", "expr": expr, "for": duration,
                "labels": {**labels, "severity": severity},
                "annotations": {"summary": summary, "description": description, "runbook_url": runbooks[alert]}}

    seconds = int(max_age_hours * 3600)
    return {"groups": [{"name": f"{_slug(service)}-fireline-suggested", "rules": [
        rule("DiskUsageHigh",
             f"(1 - node_filesystem_avail_bytes{{{fs}}} / node_filesystem_size_bytes{{{fs}}}) * 100 > 85", "10m",
             "warning", f"{service}: disk {{{{ $labels.mountpoint }}}} on {{{{ $labels.instance }}}} is over 85% full",
             "Disk usage is {{ $value | humanize }}%. Check what grew (the purge job's last run first) and free "
             "space before it fills; see the runbook."),
        rule("DiskFillsWithin24h",
             f"predict_linear(node_filesystem_avail_bytes{{{fs}}}[6h], 24 * 3600) < 0", "30m", "critical",
             f"{service}: disk {{{{ $labels.mountpoint }}}} on {{{{ $labels.instance }}}} will fill within 24 hours",
             "At the last 6 hours' rate the disk is full within a day. Check the purge job and free space now; "
             "see the runbook."),
        rule("JobLastSuccessTooOld",
             f'time() - max(job_last_success_timestamp_seconds{{job="{job}"}}) > {seconds}', "5m", "critical",
             f"{service}: job {job} has not succeeded for over {max_age_hours:g} hours",
             "The job stopped succeeding without reporting errors (the silent failure). Check its last run's "
             "logs and run it by hand; see the runbook."),
        rule("JobHeartbeatMissing",
             f'absent(job_last_success_timestamp_seconds{{job="{job}"}})', "15m", "critical",
             f"{service}: job {job} reports no success heartbeat at all",
             "The job's success metric is missing: the job is not running or not reporting. Check the "
             "scheduler and the push gateway; see the runbook."),
        rule("JobErrors",
             f'increase(job_errors_total{{job="{job}"}}[15m]) > 0', "1m", "warning",
             f"{service}: job {job} reported {{{{ $value | humanize }}}} errors in 15 minutes",
             "Check the job's logs for the failing items and restart it once fixed; see the runbook."),
    ]}]}


RUNBOOK = """# {title}

Alert `{alert}` for service `{service}` (job `{job}`), owned by {team}.
Written by `fireline alerts suggest`: fill in what only your team knows.

## What it means
{meaning}

## First checks
1. Open the service's dashboard for the instance in the alert.
2. {first_check}
3. Look at recent deployments: `fireline explain deployment-frequency --service {service}`.

## Fix
- (Write the commands that fixed it last time.)

## Escalate
- Who to page when the fix above does not work, and when.

## History
- (Link the postmortems of incidents this alert caught or missed.)
"""

MEANINGS = {
    "DiskUsageHigh": ("A filesystem is over 85% full.",
                      "Find what grew: `du -xh --max-depth=2 <mountpoint> | sort -h`."),
    "DiskFillsWithin24h": ("At the current rate a filesystem fills within 24 hours.",
                           "Check whether the purge/cleanup job ran: its last success time."),
    "JobLastSuccessTooOld": ("The batch job has not succeeded for longer than its schedule allows.",
                             "Read the last run's logs; run the job by hand and watch it finish."),
    "JobHeartbeatMissing": ("The job's success heartbeat metric is absent.",
                            "Check the scheduler (is the job scheduled?) and that it can push its metrics."),
    "JobErrors": ("The job reported errors.", "Read the errors in the job's logs; find the failing items."),
}


def suggest(service: str, *, job: str | None = None, team: str | None = None, out: Path,
            max_age_hours: float = 26.0, force: bool = False) -> Suggestion:
    """Write `alerts/<service>.rules.yml` and `docs/runbooks/<service>-*.md` under `out`."""
    if not service.strip():
        raise UserError("must not be empty", where="--service")
    job = job or service
    team = team or service
    slug = _slug(service)
    runbook_paths = {alert: Path("docs") / "runbooks" / f"{slug}-{_kebab(alert)}.md" for alert in MEANINGS}
    rules_path = out / "alerts" / f"{slug}.rules.yml"
    targets = [rules_path, *(out / p for p in runbook_paths.values())]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise UserError(f"would overwrite {', '.join(existing)} (pass --force to replace them)", where="--out")
    rules = _rules(service, job, team, max_age_hours, {a: str(p) for a, p in runbook_paths.items()})
    rules_path.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# Rules suggested by `fireline alerts suggest --service {service}`: disk usage and fill prediction,\n"
              "# a success heartbeat (a job that stops silently raises nothing on errors alone), and errors.\n")
    rules_path.write_text(header + yaml.safe_dump(rules, sort_keys=False, width=120))
    written = []
    for alert, rel in runbook_paths.items():
        meaning, first = MEANINGS[alert]
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RUNBOOK.format(title=f"{_camel(service)}{alert}", alert=f"{_camel(service)}{alert}",
                                       service=service, job=job, team=team, meaning=meaning, first_check=first))
        written.append(path)
    return Suggestion(rules_path, written)
