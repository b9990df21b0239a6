"""Terminal rendering of `fireline alerts report`: the figures, each with what stands behind it."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from .terminal import safe


def _figure(section: dict[str, Any], text: str) -> str:
    if section.get("value") is None and section.get("unknown"):
        return f"unknown: {safe(section['unknown'])}"
    return text


def render(report: dict[str, Any], console: Console) -> None:
    window = report["window"]
    console.print(f"[bold]Alert noise and detection[/] {window['since'][:16]} → {window['until'][:16]} UTC, "
                  f"hours in {safe(report['timezone'])}")
    table = Table(header_style="bold", show_header=True)
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    table.add_column("Behind it")
    ep = report["episodes"]
    table.add_row("Alert episodes", _figure(ep, str(ep.get("value"))), f"{ep.get('open', 0)} still open")
    pps = report["pages_per_shift"]
    table.add_row("Pages per shift", _figure(pps, f"{(pps.get('value') or 0):.2f}"),
                  f"{pps.get('pages', 0)} pages over {pps.get('shifts', 0)} shifts of {pps.get('shift_hours')}h; "
                  f"{pps.get('over_budget_shifts', 0)} over the budget of {pps.get('budget')}")
    it = report["interruptions"]
    parts = [f"{name.replace('_', ' ')} {it[name].get('value', it[name].get('count', '?'))}"
             for name in ("business_hours", "off_hours", "sleep_hours") if isinstance(it.get(name), dict)]
    table.add_row("Interruptions", _figure(it, str(it.get("value"))), ", ".join(parts))
    for key, label in (("flapping", "Flapping"), ("transient", "Transient"), ("no_runbook", "Without runbook"),
                       ("no_incident", "With no incident")):
        sec = report[key]
        table.add_row(label, _figure(sec, str(sec.get("value"))),
                      ", ".join(f"{k} {v * 100:.0f}%" if k == "share" else f"{k} {v}" for k, v in sec.items()
                                if k in ("episodes", "share", "minutes", "rules") and v is not None))
    console.print(table)
    noisy = report.get("noisy_rules") or []
    if noisy:
        top = Table(title="Noisiest rules", header_style="bold")
        for column in ("rule", "episodes", "recommendation"):
            top.add_column(column)
        for row in noisy:
            recs = row.get("recommendations") or [row.get("recommendation", "")]
            top.add_row(safe(row.get("name") or row.get("rule")), safe(row.get("episodes")),
                        "; ".join(map(safe, recs)))
        console.print(top)
    gap = report["detection_gap"]
    share = gap.get("customer_share") or {}
    if share.get("value") is None:
        console.print(f"Detection gap: unknown: {safe(share.get('unknown'))}")
    else:
        console.print(f"Detection gap: {share['value'] * 100:.0f}% of incidents were found by customers "
                      f"({share.get('customer', share.get('count', '?'))} of {share.get('incidents', '?')}).")
    if gap.get("verdict"):
        console.print(f"[bold red]{safe(gap['verdict'])}[/]")
