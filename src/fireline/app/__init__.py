"""Use cases: the one place where tables, config and the clock meet.

The library (`fireline.Workspace`), the CLI, the server and the report all ask this layer,
so they cannot disagree. It reads the store, calls the pure metrics with an explicit "now",
and hands typed results to the views, which only format them.

- ``settings``: the whole configuration, every section validated at load.
- ``dora``: the DORA summary (and the grouping rule every face uses) and `explain`.
- ``report``: the HTML report and the dashboard's pages, assembled.
"""
