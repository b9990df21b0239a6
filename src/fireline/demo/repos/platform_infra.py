"""Team SRE's platform-infra: annotated v-tags several times a week, hours of lead time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from ..dates import FIRST_WORK, KOL, LAST_WORK, LON, NYC, WINDOW_START, wall_clock
from ..ordinary_work import Area, random_work
from ..people import P, Person, members
from ..workshop import Workshop
from .building_blocks import Deploy, file_pairs, initial_import, scripted


def plan(shop: Workshop, deploys: list[Deploy]) -> None:
    areas = [
        Area(file_pairs("terraform/{}.tf", "tests/terraform/{}.tftest.hcl",
                    "network compute dns storage iam"),
             ("VPC peering|NAT gateway routes|subnet layout",
              "instance sizes|autoscaling group|export host volume",
              "internal DNS zone|DNS records for batch hosts",
              "S3 lifecycle rule|backup bucket policy",
              "instance profile|CI deploy role|bastion access policy"), 3),
        Area(file_pairs("ansible/roles/{}/tasks/main.yml", "ansible/roles/{}/molecule/verify.yml",
                    "nginx node_exporter disk ntp"),
             ("nginx worker limits|nginx TLS settings",
              "node exporter role|node exporter collectors",
              "disk mount options|log volume layout", "NTP settings|chrony pool"), 2),
        Area(file_pairs("scripts/{}.sh", None, "rotate_logs backup bootstrap"),
             ("log rotation script", "backup retention|backup verification",
              "bootstrap script|host bootstrap checks"), 1),
        Area(file_pairs("monitoring/{}.yml", None, "host_alerts scrape_config"),
             ("host alerts|CPU alert thresholds", "scrape intervals|scrape targets"), 1),
    ]
    ingress = "ansible/roles/ingress/defaults/main.yml"
    initial_import(shop, P["hannah"], areas, {ingress: "ingress_nginx_version: 1.9.6\n"})
    random_work(shop, 392, areas, members("SRE"), FIRST_WORK, LAST_WORK)
    last = {"tip": -1, "count": 0}  # tips are marks; -1 = nothing tagged yet

    def tag(tagger: Person, when: datetime, note: str = "") -> None:
        def act() -> None:
            tip = shop.git.tips.get("main", -1)
            if tip == last["tip"]:
                return  # nothing new to ship (or nothing at all yet)
            name = f"v1.0.{last['count']}"
            last["tip"], last["count"] = tip, last["count"] + 1
            body = f"Release {name}\n" + (f"\n{note}\n" if note else "")
            shop.git.annotated_tag(name, tip, tagger, when, body)
        shop.at(when, act)

    day = WINDOW_START.date()
    while day < LAST_WORK:
        if day.weekday() < 5 and shop.rng.random() < 0.75:
            if day.isocalendar().week % 2:
                tag(P["hannah"], wall_clock(day, 16, shop.rng.randrange(60), LON))
            else:
                tag(P["marcus"], wall_clock(day, 11, shop.rng.randrange(60), NYC))
        day += timedelta(days=1)
    subject = "Upgrade nginx ingress controller to 1.10"
    bad = wall_clock(date(2026, 2, 10), 10, 5, LON)
    before: dict[str, str | None] = {}

    def upgrade() -> None:
        before[ingress] = shop.git.files["main"][ingress]
        shop.marks["nginx"] = shop.git.commit("main", P["hannah"], bad, subject + "\n",
                                              {ingress: "ingress_nginx_version: 1.10.0\n"})
    shop.at(bad, upgrade)
    tag(P["hannah"], wall_clock(date(2026, 2, 10), 11, 0, LON))
    reverted = wall_clock(date(2026, 2, 10), 11, 48, LON)
    shop.at(reverted, lambda: shop.revert(P["hannah"], reverted, "nginx", subject, before))
    tag(P["hannah"], wall_clock(date(2026, 2, 10), 11, 52, LON), "Hotfix: revert the ingress")
    scripted(shop, "dns-hotfix", P["arjun"], wall_clock(date(2026, 4, 21), 18, 46, KOL),
              "hotfix: restore internal DNS TTL to 300s", ["terraform/dns.tf"])
    tag(P["hannah"], wall_clock(date(2026, 4, 21), 14, 22, LON), "Hotfix: DNS TTL")
    scripted(shop, "disk-alert", P["hannah"], wall_clock(date(2026, 5, 18), 11, 10, LON),
              "Add disk usage alert at 85% for export hosts\n\nAction item from INC-0042.",
              [], {"monitoring/disk_alerts.yml": [
                  "- alert: ExportHostDiskAlmostFull",
                  "  expr: disk_used_ratio{role=\"export\"} > 0.85",
                  "  annotations: { runbook: runbooks/disk-full.md }"]})
    scripted(shop, "runbook", P["marcus"], wall_clock(date(2026, 5, 19), 10, 30, NYC),
              "docs: update runbook for a full disk on export hosts", [],
              {"runbooks/disk-full.md": ["1. Check the purger job's last exit code.",
                                         "2. Free space: purge files older than the window."]})
