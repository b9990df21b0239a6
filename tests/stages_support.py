"""A small real repository with pull requests of every kind, for the lead-time stages tests.

    c0 ── (PR #1: b1, b2, true merge M1) ── S2 (PR #2 squash) ── D (direct) ── R3 (PR #3 rebase)
    deployments: d1 at c0 (baseline), d2 at M1, d3 at D; R3 never deployed.

PR events are the real octokit/webhooks examples with their fields changed (tests/data/webhooks).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.gitrepo import GitRepo

DATA = Path(__file__).resolve().parent / "data" / "webhooks" / "github"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def at(days: float, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _load(relative: str) -> dict:
    return json.loads((DATA / relative).read_text(encoding="utf-8"))


def pr_event(action: str, number: int, *, repo: str = "shop", author: str = "ada", created: datetime,
             updated: datetime, draft: bool = False, merged: datetime | None = None, merge_sha: str | None = None,
             closed: datetime | None = None, head: str = "e" * 40, commits: list[datetime] | None = None) -> dict:
    payload = copy.deepcopy(_load("pull_request/opened.payload.json"))
    payload["action"], payload["number"] = action, number
    payload["repository"]["name"] = repo
    pr = payload["pull_request"]
    pr.update(number=number, title=f"Change {number}", draft=draft, created_at=iso(created), updated_at=iso(updated),
              html_url=f"https://github.com/acme/{repo}/pull/{number}", merged=merged is not None,
              merged_at=iso(merged) if merged else None, merge_commit_sha=merge_sha or "f" * 40,
              closed_at=iso(closed or merged) if (closed or merged) else None,
              state="closed" if (closed or merged) else "open")
    pr["user"]["login"] = author
    pr["head"]["sha"] = head
    if commits is not None:  # what `fireline sync` adds: GET /pulls/{n}/commits
        payload["commits"] = [{"sha": f"{i:040x}", "commit": {"author": {"date": iso(t)}}}
                              for i, t in enumerate(commits, 1)]
    return payload


def review_event(number: int, who: str, when: datetime, *, repo: str = "shop", author: str = "ada",
                 created: datetime, state: str = "approved") -> dict:
    payload = copy.deepcopy(_load("pull_request_review/submitted.payload.json"))
    payload["repository"]["name"] = repo
    payload["pull_request"].update(number=number, created_at=iso(created), updated_at=iso(when))
    payload["pull_request"]["user"]["login"] = author
    payload["review"].update(state=state, submitted_at=iso(when))
    payload["review"]["user"]["login"] = who
    return payload


@dataclass
class Shop:
    repo: GitRepo
    shas: dict[str, str] = field(default_factory=dict)
    events: list[tuple[str, str, str, dict]] = field(default_factory=list)
    deployments_csv: Path | None = None


def build_shop(root: Path) -> Shop:
    """The repository, its deployments file and the PR events (not yet ingested)."""
    git = GitRepo.create(root / "shop")
    shop = Shop(git)
    s = shop.shas
    s["c0"] = git.commit("initial", at(0), {"a.txt": "a\n"})
    # PR #1: a branch of two commits, opened at 13:00, reviewed at 15:00, a true merge the next morning.
    git.git("checkout", "-q", "-b", "feature")
    s["b1"] = git.commit("b1", at(1, 1), {"b.txt": "1\n"})
    s["b2"] = git.commit("b2", at(1, 3), {"b.txt": "2\n"})
    git.git("checkout", "-q", "main")
    git.git("merge", "-q", "--no-ff", "-m", "Merge pull request #1", "feature", when=at(2))
    s["M1"] = git.head()
    # PR #2: opened as a draft, ready at 11:00, squashed at 14:00 (commit list from sync: first at 08:00).
    s["S2"] = git.commit("Change 2 (#2)", at(3, 5), {"c.txt": "c\n"}, author_when=at(3, -1))
    s["D"] = git.commit("direct to main", at(3, 7), {"d.txt": "d\n"})
    # PR #3: rebased onto main, merged by its author without a review; never deployed.
    s["R3"] = git.commit("Change 3", at(5, 1), {"e.txt": "e\n"}, author_when=at(4))
    shop.deployments_csv = root / "deployments.csv"
    shop.deployments_csv.write_text("id,time,service,environment,sha,status\n"
                                    f"d1,{iso(at(0, 1))},shop,production,{s['c0']},success\n"
                                    f"d2,{iso(at(2, 3))},shop,production,{s['M1']},success\n"
                                    f"d3,{iso(at(4, 1))},shop,production,{s['D']},success\n")
    ev = shop.events

    def add(kind: str, payload: dict) -> None:
        ev.append(("github", kind, f"delivery-{len(ev) + 1}", payload))

    add("pull_request", pr_event("opened", 1, created=at(1, 4), updated=at(1, 4), head=s["b2"]))
    add("pull_request_review", review_event(1, "bob", at(1, 6), created=at(1, 4)))
    add("pull_request", pr_event("closed", 1, created=at(1, 4), updated=at(2), merged=at(2), merge_sha=s["M1"],
                                 head=s["b2"]))
    add("pull_request", pr_event("opened", 2, created=at(3, 0), updated=at(3, 0), draft=True))
    add("pull_request_review", review_event(2, "ada", at(3, 1), created=at(3, 0), state="commented"))  # own
    add("pull_request", pr_event("ready_for_review", 2, created=at(3, 0), updated=at(3, 2)))
    add("pull_request_review", review_event(2, "carol", at(3, 3), created=at(3, 0)))
    add("pull_request", pr_event("closed", 2, created=at(3, 0), updated=at(3, 5), merged=at(3, 5), merge_sha=s["S2"],
                                 commits=[at(3, -1), at(3, -0.5)]))
    add("pull_request", pr_event("opened", 3, created=at(4, 2), updated=at(4, 2)))
    add("pull_request", pr_event("closed", 3, created=at(4, 2), updated=at(4, 3), closed=at(4, 3)))
    add("pull_request", pr_event("reopened", 3, created=at(4, 2), updated=at(4, 4)))
    add("pull_request", pr_event("closed", 3, created=at(4, 2), updated=at(5, 1), merged=at(5, 1), merge_sha=s["R3"]))
    return shop


CONFIG = """
[teams.Shopfront]
services = ["shop"]

[services.shop]
repo = "shop"
"""
