"""One glob rule for the files that are not a service's code, in its two forms: the rework rate
reads it as a LIKE expression on every engine, `fireline testing` over rows in Python. A path the
two forms disagree on would be rework to one metric and a fix without a test to the other."""

from __future__ import annotations

import ibis
import pytest

from fireline.metrics.paths import NOT_SERVICE_CODE, path_matches, path_matches_expr

PATHS = ["docs/guide.rst", "docs/img/a.png", "src/docs/x.py", "doc", "docsx/a.py", "README.md", "pkg/notes.md",
         "CHANGES.rst", "pkg/CHANGELOG", "CHANGES", ".github/workflows/test.yml", "sub/.github/x.yml",
         "src/app.py", "requirements-dev.txt", "requirements.txt", "tools/requirements.in", "go.sum", "a/go.sum",
         "Jenkinsfile", "ci/Jenkinsfile.bak", "LICENSE.txt", "Makefile", "web/package.json", "README.MD",
         "my_file.py", "myXfile.py", "src/my_file.py", "100%.txt", "100x.txt", "docs_old/a.txt", "docsXold/a.txt",
         "a.b(1).txt", "axb(1)xtxt", "a\\b.txt"]


@pytest.mark.parametrize("globs", [NOT_SERVICE_CODE, ("docs/*",), ("*.py",), ("src/?pp.py", "Make*"),
                                   ("my_file.py", "100%.txt", "docs_old/**", "a.b(1).txt", "a\\b.txt")])
def test_the_python_and_the_expression_forms_agree(globs):
    table = ibis.memtable({"path": PATHS})
    con = ibis.duckdb.connect()
    matched = con.execute(table.select(table.path, hit=path_matches_expr(table.path, globs)))
    by_expression = dict(zip(matched["path"], matched["hit"], strict=True))
    assert by_expression == {p: path_matches(p, globs) for p in PATHS}
    if globs is NOT_SERVICE_CODE:
        assert not by_expression["src/app.py"] and not by_expression["README.MD"]  # case-sensitive
        assert not by_expression["sub/.github/x.yml"] and by_expression["a/go.sum"]  # .github/** is at the root



def test_underscore_and_percent_in_a_glob_are_literal_on_every_engine(store):
    """LIKE reads `_` and `%` as wildcards, and its escape character differs per engine (PostgreSQL's is
    a backslash, DuckDB has none)."""
    table = ibis.memtable({"path": PATHS})
    globs = ("my_file.py", "100%.txt", "a\\b.txt")
    hits = store.con.execute(table.filter(path_matches_expr(table.path, globs)))
    assert sorted(hits["path"]) == ["100%.txt", "a\\b.txt", "my_file.py", "src/my_file.py"]
    assert ibis.to_sql(table.filter(path_matches_expr(table.path, globs)), dialect="pyspark")
