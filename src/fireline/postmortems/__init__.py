"""Postmortems as code: Markdown files with YAML front matter, their lint, ingest and exports.

Parsing lives in `fireline.sources.postmortems` (files in, records out, no database);
this package holds what needs context: settings, the lint across files, the template,
the ingest into the store and the iCalendar export.
"""
