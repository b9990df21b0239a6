"""results.json -> the Markdown table that run.py prints (and BENCHMARKS.md quotes)."""

from __future__ import annotations

from typing import Any

GIB_MIB = 1024


def _s(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 1 else f"{seconds:.2f} s"


def _load(values: Any) -> str:
    return "/".join(f"{x:.2f}" for x in values)


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _ingest_rows(r: dict[str, Any]) -> list[tuple[str, ...]]:
    n = r["repository"]["commits"]
    ing, git, pipe = r["ingest_seconds"]["min"], r["git_devnull_seconds"]["min"], r["git_pipe_seconds"]["min"]
    return [
        (f"Ingest {n:,} commits (`ingest_git`, fresh DuckDB) vs bare `git log` > /dev/null",
         _s(ing), _s(git), f"{r['ratio_ingest_to_git']:.2f}x", "<= 2x", _met(r["ratio_ingest_to_git"] <= 2)),
        ("... same ingest vs `git log` drained by Python through a pipe (no parsing)",
         _s(ing), _s(pipe), f"{r['ratio_ingest_to_git_pipe']:.2f}x", "info", ""),
        ("Ingest peak memory (VmHWM of the ingesting process)",
         f"{r['peak_mib']:.0f} MiB", f"{r['baseline_peak_mib']:.0f} MiB after imports", "",
         "< 1 GiB", _met(r["peak_mib"] < GIB_MIB)),
        ("... peak memory of the bare `git log` (GNU time)",
         "", f"{r['git_peak_mib']:.0f} MiB" if r["git_peak_mib"] else "n/a", "", "info", ""),
        (f"Linking (`relink`, {r['rows']['deployments']:,} tag deployments, "
         f"{r['rows']['deployment_changes']:,} links) vs the ingest",
         _s(r["relink_seconds"]["min"]), _s(ing), f"{r['ratio_relink_to_ingest']:.3f}", "info", ""),
        ("... the same relink including its transaction's COMMIT",
         _s(r["relink_commit_seconds"]["min"]), _s(ing),
         f"{r['relink_commit_seconds']['min'] / ing:.3f}", "info", ""),
        ("Re-ingest of the unchanged repository (no-op) vs the ingest",
         _s(r["rerun_seconds"]["min"]), _s(ing), f"{r['ratio_rerun_to_ingest']:.4f}",
         "no-op", _met(r["rerun_unchanged"])),
        (f"Incremental ingest: {r['incremental_new'][0]} new commit + {r['incremental_new'][1]} new tag "
         "(relinks everything) vs the ingest",
         _s(r["incremental_seconds"]["min"]), _s(ing), f"{r['ratio_incremental_to_ingest']:.3f}", "info", ""),
    ]


def _pydriller_rows(r: dict[str, Any]) -> list[tuple[str, ...]]:
    n = r["repository"]["commits"]
    return [(
        f"Commits/s on the same {n:,}-commit repository: fireline `ingest_git` "
        f"({r['fireline_ingest_seconds']['min']:.2f} s) vs PyDriller ({r['pydriller']['seconds']:.1f} s)",
        f"{r['fireline_commits_per_second']:,.0f}/s", f"{r['pydriller_commits_per_second']:,.0f}/s",
        f"{r['ratio_fireline_speedup']:.1f}x faster", ">= 20x", _met(r["ratio_fireline_speedup"] >= 20),
    ), (
        f"... charging fireline with pyarrow's one-off lazy `import pandas` "
        f"({r['pyarrow_imports_pandas_seconds']:.2f} s)", "", "",
        f"{r['ratio_fireline_speedup_with_lazy_import']:.1f}x faster", "info", "",
    )]


def _metrics_rows(r: dict[str, Any]) -> list[tuple[str, ...]]:
    counts = r["store"]["counts"]
    agreement = r["agreement"]
    lead = agreement["metrics"].get("lead_time", {})
    return [
        (f"`summarise` per team x week, {counts['changes']:,} changes / {counts['deployments']:,} "
         f"deployments / {counts['incidents']:,} incidents, vs pandas",
         _s(r["fireline_seconds"]["min"]), _s(r["pandas_seconds"]["min"]),
         f"{r['ratio_fireline_to_pandas']:.2f}", "info (< 1: fireline faster)", ""),
        ("... queries per `summarise` (fetches, executes and cached tables, counted through a hook)",
         str(r.get("fireline_queries", "")), "", "", "info", ""),
        ("... peak memory (VmHWM), fireline vs pandas",
         f"{r['fireline_peak_mib']:.0f} MiB", f"{r['pandas_peak_mib']:.0f} MiB",
         f"{r['ratio_peak_memory']:.2f}", "info", ""),
        (f"... agreement over {agreement['groups']} team-weeks + overall, all metrics "
         f"(median lead time: {lead.get('compared', 0)} compared, max diff {lead.get('max_abs_diff', 0):.1e} h)",
         "", "", "", f"equal within {agreement['tolerance']:g}", _met(agreement["all_equal"])),
    ]


def _postgres_rows(r: dict[str, Any]) -> list[tuple[str, ...]]:
    n = r["store"]["counts"]["changes"]
    rows = []
    for groups, ratio in r["ratio"].items():
        pg, duck = r["postgres"][groups], r["duckdb"][groups]
        rows.append((f"`summarise` {groups}, {n:,} changes: PostgreSQL {r.get('postgres_version', '')} vs DuckDB"
                     + ("" if r["agree"].get(groups, True) else " (**figures differ**)"),
                     _s(pg) if pg is not None else f"> {r['timeout_seconds']:.0f} s (stopped)",
                     _s(duck) if duck is not None else "n/a",
                     f"{ratio:.2f}x" if ratio else "n/a", "<= 5x", _met(ratio is not None and ratio <= 5)))
    return rows


def _dashboard_rows(r: dict[str, Any]) -> list[tuple[str, ...]]:
    org = f"{len(r['commits'])} repositories, {sum(r['commits']):,} commits"
    return [
        (f"dashboard: first page after start ({org})", _s(r["first_page_seconds"]), _s(r["ingest_seconds"]) + " ingest",
         f"{r['ratio_first_page_to_ingest']:.3f}x", "≤ 2 s", _met(r["met"]["first_page"])),
        (f"dashboard: later pages p50 ({r['later_pages']} requests)", _s(r["later_p50_seconds"]),
         _s(r["ingest_seconds"]) + " ingest", f"{r['ratio_later_p50_to_ingest']:.4f}x", "≤ 0.3 s",
         _met(r["met"]["later_p50"])),
    ]


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    pk = env["packages"]
    lines = [
        f"Measured {env['date']} on {env['cpus']} x {env['cpu']}, {env['memory_gib']} GiB, {env['platform']}",
        f"git {env['git']}, Python {env['python']}, DuckDB {pk['duckdb']}, Ibis {pk['ibis-framework']}, "
        f"pandas {pk['pandas']}, PyDriller {pk['pydriller']}; fireline {env['fireline_commit']}"
        + (" (src/ has uncommitted changes)" if env["fireline_src_dirty"] else ""),
        f"Command: `{results['command']}`; load average at start {_load(env['load_average_start'])}, "
        f"at end {_load(env.get('load_average_end', ()))}",
        "Times are the fastest of the repeated runs (see results.json for every run).",
        "",
        "| Benchmark | Fireline | Baseline | Ratio | Target | Met |",
        "|---|---:|---:|---:|---|---|",
    ]
    rows: list[tuple[str, ...]] = []
    for name, build in (("ingest", _ingest_rows), ("pydriller", _pydriller_rows), ("metrics", _metrics_rows),
                        ("postgres", _postgres_rows), ("dashboard", _dashboard_rows)):
        if name in results:
            rows += build(results[name])
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if "org" in results:
        from orgingest import markdown as org_markdown

        lines += ["", "Organisation ingestion (bench/orgingest.py):", "", org_markdown(results["org"])]
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys
    from pathlib import Path

    # Re-render the table of an earlier run: python bench/report.py [bench/out/results.json]
    source = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "out" / "results.json")
    print(markdown(json.loads(source.read_text())))
