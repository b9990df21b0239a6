"""The layering of docs/architecture.md holds: contracts in .importlinter, and no import cycles."""

from __future__ import annotations

import os
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_layer_contracts_are_kept():
    cwd = os.getcwd()
    os.chdir(ROOT)  # lint-imports reads .importlinter from the working directory
    try:
        assert lint_imports(no_cache=True) == 0, "a layer contract is broken: run lint-imports for the chain"
    finally:
        os.chdir(cwd)


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(modules):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(edges[node])):
                nxt = edges[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_no_import_cycles_between_modules():
    """Not even through imports inside functions: a cycle hidden that way is still a tangle."""
    graph = grimp.build_graph("fireline", cache_dir=None)
    # A package's __init__ re-exporting its own modules is not a cycle worth a finding.
    modules = {m for m in graph.modules if not graph.find_children(m)}
    cycles = _cycles(graph, modules)
    assert cycles == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def _mypy_cache() -> Path:
    """mypy's cache outside the checkout, so that a clean clone (CI's) checks again only what changed: a
    module's kept result is reused only for the same source (by hash), mypy version and options. Cold, the
    check took 61 s of the suite; warm, 2 s."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fireline-tests" / "mypy"


def test_types_check():
    """mypy over src/ (settings in pyproject.toml) finds nothing."""
    from mypy import api

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        out, err, status = api.run(["--cache-dir", str(_mypy_cache())])
    finally:
        os.chdir(cwd)
    assert status == 0, out + err


def test_ruff_finds_nothing():
    """ruff over src, tests and bench (settings in pyproject.toml) finds nothing: only `make lint` ran
    it, so a line too long once reached main with the suite green."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests", "bench"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
