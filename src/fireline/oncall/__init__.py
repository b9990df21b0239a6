"""Support rotations: who is on call, where coverage breaks, and how shifts hand over.

settings.py validates `[rotations.<team>]` and `[oncall]`; schedule.py expands layers and
overrides into shifts (pure); ical.py exports shifts to RFC 5545 and imports PTO calendars.
The figures built on shifts (gaps, load, handoff notes) live in fireline.metrics.oncall.
"""
