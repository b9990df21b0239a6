"""The story's incidents: minutes to restore for SRE, hours for UI and Data, days for C++."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .dates import LON, NYC, wall_clock

TALK_INCIDENT = "INC-0042"
TALK_INCIDENT_TITLE = "Disk full on the export host: purger job failed silently"


@dataclass(frozen=True)
class Incident:
    service: str
    title: str
    started: datetime
    detect: timedelta
    restore: timedelta
    severity: str
    detected_by: str
    cause: tuple[str, str] | None = None  # (repo, notable commit) or ("deploy", key)


def story_incidents() -> list[Incident]:
    def inc(service: str, title: str, when: tuple[int, int, int, int, int], detect_min: int,
            restore_min: int, severity: str, by: str, cause: tuple[str, str] | None = None
            ) -> Incident:
        zone = NYC if service == "pricing-engine" else LON
        started = wall_clock(date(*when[:3]), when[3], when[4], zone)
        return Incident(service, title, started, timedelta(minutes=detect_min),
                         timedelta(minutes=restore_min), severity, by, cause)

    hour, day = 60, 24 * 60
    return [
        inc("platform-infra", "Load balancer health checks flapping after TLS certificate "
            "rotation", (2026, 1, 27, 14, 20), 3, 18, "SEV3", "monitoring"),
        inc("platform-infra", "Ingress returns 502 for all internal services",
            (2026, 2, 10, 11, 30), 4, 33, "SEV2", "monitoring", ("platform-infra", "nginx")),
        inc("platform-infra", "Internal DNS resolution failing for batch hosts",
            (2026, 4, 21, 14, 5), 2, 25, "SEV2", "monitoring"),
        inc("platform-infra", "Prometheus stopped scraping node exporters",
            (2026, 6, 2, 9, 40), 6, 47, "SEV3", "monitoring"),
        inc("web-ui", "Login spinner never stops on Safari", (2026, 1, 22, 13, 10), 25,
            hour + 40, "SEV3", "customer"),
        inc("web-ui", "Dashboard charts show stale prices", (2026, 2, 17, 10, 5), 70,
            4 * hour + 15, "SEV2", "customer"),
        inc("web-ui", "Third-party analytics errors flood the error tracker",
            (2026, 3, 3, 16, 30), 10, 2 * hour + 50, "SEV3", "monitoring"),
        inc("web-ui", "Blank dashboard after the chart bundle release", (2026, 4, 7, 15, 5),
            2 * hour + 35, 3 * hour + 35, "SEV2", "customer", ("web-ui", "lazy-charts")),
        inc("web-ui", "Date picker crashes for users without a locale", (2026, 5, 6, 9, 20), 6,
            2 * hour + 30, "SEV2", "monitoring"),
        inc("web-ui", "Export download button disabled for large reports",
            (2026, 6, 16, 11, 15), 110, 5 * hour + 20, "SEV3", "customer"),
        inc("export-pipeline", "Nightly export missed the 06:00 SLA", (2026, 1, 29, 6, 10), 35,
            3 * hour + 5, "SEV3", "monitoring"),
        inc("export-pipeline", "Export pipeline writes duplicate rows after deploy",
            (2026, 3, 12, 14, 10), 20, hour + 25, "SEV2", "monitoring", ("deploy", "export-bad")),
        inc("export-pipeline", "Export crashes on empty partitions", (2026, 4, 15, 7, 30), 90,
            5 * hour + 50, "SEV2", "customer"),
        inc("export-pipeline", "Schema change broke downstream parquet readers",
            (2026, 6, 18, 8, 45), 190, 9 * hour, "SEV2", "customer"),
        inc("purger", "Purger job overran its schedule and delayed the nightly export",
            (2026, 2, 24, 3, 15), 50, 2 * hour + 10, "SEV3", "monitoring"),
        inc("purger", TALK_INCIDENT_TITLE, (2026, 5, 16, 1, 40), 7 * hour + 35,
            day + 13 * hour + 50, "SEV1", "customer", ("data-platform", "purger-silent")),
        inc("pricing-engine", "Overnight risk batch fails for FX options", (2026, 1, 21, 2, 30),
            4 * hour + 20, 2 * day + 4 * hour, "SEV2", "monitoring"),
        inc("pricing-engine", "Accrued interest off by one day for ACT/365 bonds",
            (2026, 3, 19, 9, 0), day + 3 * hour, 7 * day + 3 * hour, "SEV2", "customer",
            ("pricing-engine", "daycount")),
        inc("pricing-engine", "Curve bootstrap diverges for short-dated tenors",
            (2026, 4, 28, 8, 30), 40, 2 * day + 18 * hour, "SEV2", "monitoring"),
        inc("pricing-engine", "Quote API latency spike after the pricing release",
            (2026, 6, 30, 9, 45), 15, 3 * day + 2 * hour, "SEV3", "monitoring"),
    ]
