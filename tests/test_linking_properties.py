"""Property test: the graph walk agrees with the definition on random histories.

Definition: a commit belongs to the earliest deployment (in time order) whose commit
has it as an ancestor; the first deployment is a baseline. The walk in linking.py stops
at commits earlier deployments already contain; here the same answer is computed the
slow way, from full ancestor sets.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fireline.linking import Graph, _link_service


@st.composite
def histories(draw):
    n = draw(st.integers(1, 40))
    parents: dict[str, tuple[str, ...]] = {}
    for i in range(n):
        if i == 0:
            parents["c0"] = ()
            continue
        first = draw(st.integers(0, i - 1))
        merge = draw(st.one_of(st.none(), st.integers(0, i - 1)))
        ps = (f"c{first}",) if merge is None or merge == first else (f"c{first}", f"c{merge}")
        parents[f"c{i}"] = ps
    heads = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8))
    return parents, [(f"d{k}", f"c{h}") for k, h in enumerate(heads)]


def _ancestors(parents: dict[str, tuple[str, ...]], sha: str) -> set[str]:
    seen, stack = set(), [sha]
    while stack:
        c = stack.pop()
        if c not in seen:
            seen.add(c)
            stack.extend(parents[c])
    return seen


@settings(max_examples=300, deadline=None)
@given(histories())
def test_walk_matches_the_definition(history):
    parents, deployments = history
    rows: dict[str, list] = {k: [] for k in ("deployment_id", "service", "repo", "sha", "baseline", "via")}
    _link_service("svc", "repo", [], Graph(parents, {}), deployments, rows)
    got = {sha: (dep, base) for sha, dep, base in zip(rows["sha"], rows["deployment_id"], rows["baseline"],
                                                      strict=True)}
    assert len(got) == len(rows["sha"]), "a commit was linked twice"
    expected = {}
    for index, (dep, head) in enumerate(deployments):
        for sha in _ancestors(parents, head):
            expected.setdefault(sha, (dep, index == 0))
    assert got == expected
