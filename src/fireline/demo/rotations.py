"""The demo's support rotations across time zones (London, New York, Kolkata, Tokyo).

The story they tell, on top of the demo's incidents and deployments:
- SRE hands over weekly on Mondays 09:00 London, with a follow-the-sun layer on top: each of
  Kolkata, London and New York covers its own business hours. Hannah and Marcus swap weeks
  around Easter.
- C++ has a weekday layer and a weekend layer (daily shifts, Friday 18:00 to Monday 09:00 New York).
- Data's Tom Fletcher is on call the week of 11 May; his PTO (pto.ics, nobody replacing him)
  starts Friday 15 May. The purger's disk fills up early Saturday 16 May (INC-0042, reported
  by a customer) and the Sunday purger hotfix ships with nobody of Data on call to verify it.
- Priya Raman, the purger's only expert, joined UI on 1 May; her UI week from 11 May is cut by a
  conference with no replacement: a gap in UI and every purger expert away at once.

A demo part (see parts.py): CONFIG_TOML is appended to the demo's fireline.toml,
build() writes files once the repositories exist, ingest() loads them into the
store, hints() adds commands to the printed walkthrough.
"""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..store import Store

CONFIG_TOML = """
# Support rotations (fireline oncall; docs/oncall.md). Layers listed later win over earlier ones.
[oncall]
holidays = ["GB", "US", "IN", "JP"]
weekend_max_hours = 48
verify_hours = 1
business_hours = "09:00-17:00"
sleep_hours = "23:00-07:00"
pto_calendars = ["pto.ics"]

[rotations.SRE]
timezone = "Europe/London"

[[rotations.SRE.layers]]
name = "base"
members = ["Arjun Mehta", "Hannah Clarke", "Marcus Webb"]
length = "1w"
handoff = "09:00"
start = 2025-12-29

[[rotations.SRE.layers]]
name = "follow-the-sun"
follow_the_sun = true
members = ["Arjun Mehta", "Hannah Clarke", "Marcus Webb"]
length = "1w"
start = 2025-12-29
restrictions = [{ start = "09:00", end = "17:00", days = "mon-fri" }]

# Hannah and Marcus swap base weeks, so Hannah is off over the UK's Easter weekend.
[[rotations.SRE.overrides]]
person = "Hannah Clarke"
replacement = "Marcus Webb"
kind = "swap"
start = 2026-03-16T09:00:00Z
end = 2026-04-06T09:00:00+01:00
layer = "base"
note = "Easter"

[rotations.Data]
timezone = "Europe/London"

# Priya Raman leaves Data for UI on 1 May: her last Data week ends at the 4 May handoff.
[[rotations.Data.layers]]
name = "base"
members = ["Priya Raman", "Tom Fletcher", "Sofia Alvarez"]
length = "1w"
start = 2025-12-29
end = 2026-05-04

[[rotations.Data.layers]]
name = "base-from-may"
members = ["Sofia Alvarez", "Tom Fletcher"]
length = "1w"
start = 2026-05-04

[rotations.UI]
timezone = "Asia/Tokyo"

[[rotations.UI.layers]]
name = "base"
members = ["Oliver Bennett", "Kenji Watanabe", "Emily Chen"]
length = "1w"
start = 2025-12-29
end = 2026-05-04

[[rotations.UI.layers]]
name = "base-with-priya"
members = ["Kenji Watanabe", "Priya Raman", "Emily Chen", "Oliver Bennett"]
length = "1w"
start = 2026-05-04

[[rotations.UI.overrides]]
person = "Priya Raman"
kind = "conference"
start = 2026-05-13
end = 2026-05-16
note = "PyCon US"

[rotations."C++"]
timezone = "America/New_York"

[[rotations."C++".layers]]
name = "weekdays"
members = ["Yuki Tanaka", "Rachel Goldberg", "Daniel Novak"]
start = 2025-12-29
length = "1w"
restrictions = [{ start = "mon 09:00", end = "fri 18:00" }]

[[rotations."C++".layers]]
name = "weekend"
members = ["Daniel Novak", "Yuki Tanaka", "Rachel Goldberg"]
length = "1d"
start = 2025-12-29
restrictions = [{ start = "fri 18:00", end = "mon 09:00" }]
"""

# A PTO calendar as an HR tool or a shared calendar exports it: all-day events, attendees by email.
PTO_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example Corp//PTO calendar//EN
BEGIN:VEVENT
UID:pto-0001@example.com
DTSTAMP:20260401T120000Z
DTSTART;VALUE=DATE:20260515
DTEND;VALUE=DATE:20260518
SUMMARY:Tom Fletcher - PTO (long weekend)
ATTENDEE;CN=Tom Fletcher:mailto:tom.fletcher@example.com
END:VEVENT
BEGIN:VEVENT
UID:pto-0002@example.com
DTSTAMP:20260401T120000Z
DTSTART;VALUE=DATE:20260422
DTEND;VALUE=DATE:20260425
SUMMARY:ACCU conference
ATTENDEE;CN=Daniel Novak:mailto:daniel.novak@example.com
DESCRIPTION:Replacement: Rachel Goldberg
END:VEVENT
BEGIN:VEVENT
UID:pto-0003@example.com
DTSTAMP:20260401T120000Z
DTSTART;VALUE=DATE:20260629
DTEND;VALUE=DATE:20260704
SUMMARY:Vacation
ATTENDEE;CN=Sofia Alvarez:mailto:sofia.alvarez@example.com
DESCRIPTION:Replacement: Tom Fletcher
END:VEVENT
END:VCALENDAR
"""


def build(root: Path) -> None:
    """Write this part's files under the world's root."""
    (root / "pto.ics").write_bytes(PTO_ICS.replace("\n", "\r\n").encode())


def ingest(store: Store, config: Config, root: Path) -> None:
    """Rotations live in fireline.toml and pto.ics; nothing to load into the store."""


def hints(window: str) -> list[str]:
    span = "--since 2026-01-05 --until 2026-07-04"
    return [
        "Support rotations (London, New York, Kolkata, Tokyo):",
        "  fireline oncall now --at 2026-05-16T09:15",
        f"  fireline oncall gaps {span}",
        f"  fireline oncall load {span}",
        "  fireline oncall handoff --team Data --at 2026-05-18T09:00",
        "  fireline oncall schedule --team SRE --since 2026-03-23 --until 2026-03-29 --ics sre.ics",
    ]
