"""The demo's pull requests and reviews, as the GitHub webhook events a team's repositories send.

A demo part (see parts.py). The commits are already in git; this part writes the events around
them to `world/pull_requests.ndjson` (one `[kind, delivery id, payload]` per line) and ingests
them as raw webhook events, so the same normaliser as a live server derives them.

- web-ui (UI): its real pull requests: true merges ("Merge pull request #N", the branch is in git,
  so the first commit comes from git) and squashes ("... (#N)", with the commit list sync adds).
- pricing-engine (C++) and data-platform (Data): every ordinary commit on main landed through a
  rebase-merged pull request (the commit is what ships; `commits` as sync adds it). The C++ team
  waits days for reviewers in other time zones and for the builds between review rounds; the
  Data team is reviewed within hours and waits for its weekly-ish deploys. Hotfixes are merged
  without review; some requests open as drafts; a few are closed and reopened.
- platform-infra (SRE) pushes straight to main: its commits count as outside any pull request.

Times come from a seeded generator, so every build writes the same events.
"""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..config import Config
from ..store import Store
from .dates import WINDOW_END
from .people import PEOPLE, Person

CONFIG_TOML = ""
FILE = "pull_requests.ndjson"
SEED = 20260519
# hours: coding, pickup, review (uniform ranges), share merged without review, share opened as drafts
_PACE = {"pricing-engine": ((8, 72), (12, 60), (72, 260), 0.04, 0.3),
         "data-platform": ((2, 10), (0.3, 4), (0.5, 6), 0.08, 0.1)}
_DATA_PATHS = ("purger/", "export/")


@dataclass(frozen=True)
class _Commit:
    sha: str
    parents: tuple[str, ...]
    author: str  # e-mail
    authored: datetime
    committed: datetime
    subject: str
    files: tuple[str, ...]


def _log(repo: Path) -> list[_Commit]:
    out = subprocess.run(["git", "-C", str(repo), "log", "--first-parent", "--reverse", "--name-only",
                          "--format=%x00%H%x09%P%x09%ae%x09%at%x09%ct%x09%s", "main"],
                         capture_output=True, text=True, check=True).stdout
    commits = []
    for block in out.split("\x00")[1:]:
        head, _, rest = block.partition("\n")
        sha, parents, email, at, ct, subject = head.split("\t", 5)
        commits.append(_Commit(sha, tuple(parents.split()), email, datetime.fromtimestamp(int(at), UTC),
                               datetime.fromtimestamp(int(ct), UTC), subject,
                               tuple(line for line in rest.splitlines() if line)))
    return commits


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


_BY_EMAIL = {p.email: p for p in PEOPLE.values()}


class _Writer:
    def __init__(self, repo: str) -> None:
        self.repo = repo
        self.lines: list[str] = []

    def pr(self, action: str, number: int, author: Person, title: str, created: datetime, updated: datetime, *,
           draft: bool = False, merged: tuple[datetime, str] | None = None, closed: datetime | None = None,
           commits: list[datetime] | None = None) -> None:
        payload: dict = {
            "action": action, "number": number,
            "pull_request": {
                "number": number, "title": title, "user": {"login": author.key},
                "html_url": f"https://github.com/fireline-demo/{self.repo}/pull/{number}", "draft": draft,
                "created_at": _iso(created), "updated_at": _iso(updated),
                "state": "closed" if merged or closed else "open", "merged": merged is not None,
                "merged_at": _iso(merged[0]) if merged else None, "merge_commit_sha": merged[1] if merged else None,
                "closed_at": _iso(merged[0]) if merged else (_iso(closed) if closed else None),
            },
            "repository": {"name": self.repo, "full_name": f"fireline-demo/{self.repo}"},
        }
        if commits is not None:
            payload["commits"] = [{"commit": {"author": {"date": _iso(t)}}} for t in commits]
        self._add("pull_request", number, payload)

    def review(self, number: int, author: Person, reviewer: Person, title: str, created: datetime,
               when: datetime, state: str = "approved") -> None:
        self._add("pull_request_review", number, {
            "action": "submitted", "review": {"user": {"login": reviewer.key}, "state": state,
                                              "submitted_at": _iso(when)},
            "pull_request": {"number": number, "title": title, "user": {"login": author.key},
                             "created_at": _iso(created), "updated_at": _iso(when), "state": "open",
                             "html_url": f"https://github.com/fireline-demo/{self.repo}/pull/{number}"},
            "repository": {"name": self.repo, "full_name": f"fireline-demo/{self.repo}"}})

    def _add(self, kind: str, number: int, payload: dict) -> None:
        delivery = f"demo-{self.repo}-{number}-{len(self.lines)}"
        self.lines.append(json.dumps([kind, delivery, payload], sort_keys=True))


def _reviewer(rng: random.Random, author: Person, team: str) -> Person:
    return rng.choice([p for p in PEOPLE.values() if p.team == team and p != author])


def _hours(rng: random.Random, span: tuple[float, float]) -> timedelta:
    return timedelta(hours=rng.uniform(*span))


def _rebase_merged(out: _Writer, rng: random.Random, commits: list[_Commit], team: str) -> None:
    coding, pickup, review, unreviewed, drafts = _PACE[out.repo]
    number = 0
    for c in commits:
        author = _BY_EMAIL.get(c.author)
        if len(c.parents) != 1 or author is None or c.subject.startswith(("Initial import", "Bump version")):
            continue
        if out.repo == "data-platform" and not any(f.startswith(_DATA_PATHS) for f in c.files):
            continue  # common/ ships with neither service: it would wait for a deployment forever
        number += 1
        merged = c.committed
        hotfix = "hotfix" in c.subject.lower()
        reviewed = not hotfix and rng.random() >= unreviewed
        first_review = merged - _hours(rng, review) if reviewed else merged - _hours(rng, (0.2, 1))
        ready = first_review - _hours(rng, pickup if reviewed else (0.1, 0.5))
        first_commit = ready - _hours(rng, coding if not hotfix else (0.3, 1.5))
        draft = not hotfix and rng.random() < drafts
        opened = first_commit + (ready - first_commit) * rng.uniform(0.3, 0.8) if draft else ready
        out.pr("opened", number, author, c.subject, opened, opened, draft=draft)
        if draft:
            out.pr("ready_for_review", number, author, c.subject, opened, ready)
        if reviewed:
            reviewer = _reviewer(rng, author, team)
            if team == "C++" and rng.random() < 0.6:  # a round of changes, a rebuild, then the approval
                out.review(number, author, reviewer, c.subject, opened, first_review, "changes_requested")
                out.review(number, author, reviewer, c.subject, opened,
                           first_review + (merged - first_review) * 0.8)
            else:
                out.review(number, author, reviewer, c.subject, opened, first_review)
        if rng.random() < 0.03:
            out.pr("closed", number, author, c.subject, opened, ready + (merged - ready) / 3,
                   closed=ready + (merged - ready) / 3)
            out.pr("reopened", number, author, c.subject, opened, ready + (merged - ready) / 2)
        out.pr("closed", number, author, c.subject, opened, merged, merged=(merged, c.sha),
               commits=[first_commit, c.authored if c.authored > first_commit else merged])


def _web_ui(out: _Writer, rng: random.Random, commits: list[_Commit], by_sha: dict[str, _Commit]) -> None:
    main = {c.sha for c in commits}
    for c in commits:
        if c.subject.startswith("Merge pull request #"):
            number = int(c.subject.split("#", 1)[1].split()[0])
            first = c.parents[1]  # back along the branch to its first commit
            while by_sha[first].parents and by_sha[first].parents[0] not in main:
                first = by_sha[first].parents[0]
            author, title, commit_list = _BY_EMAIL[by_sha[c.parents[1]].author], c.subject, None
            start = by_sha[first].authored
        elif c.subject.endswith(")") and "(#" in c.subject:
            number = int(c.subject.rsplit("(#", 1)[1].rstrip(")"))
            author = _BY_EMAIL[c.author]
            start = c.authored - _hours(rng, (1, 20))
            title, commit_list = c.subject.rsplit(" (#", 1)[0], [start, c.authored]
        else:
            continue
        merged = c.committed
        opened = start + (merged - start) * rng.uniform(0.15, 0.45)
        reviewed_at = opened + (merged - opened) * rng.uniform(0.1, 0.4)
        out.pr("opened", number, author, title, opened, opened)
        out.review(number, author, _reviewer(rng, author, "UI"), title, opened, reviewed_at)
        out.pr("closed", number, author, title, opened, merged, merged=(merged, c.sha), commits=commit_list)


def build(root: Path) -> None:
    """Write the events around the commits the repositories already have."""
    rng = random.Random(SEED)
    lines: list[str] = []
    for repo, team in (("web-ui", "UI"), ("pricing-engine", "C++"), ("data-platform", "Data")):
        path = root / "repos" / repo
        out = _Writer(repo)
        commits = _log(path)
        if repo == "web-ui":
            every = _all(path)
            _web_ui(out, rng, commits, every)
        else:
            _rebase_merged(out, rng, commits, team)
        lines += out.lines
    (root / FILE).write_text("\n".join(lines) + "\n")


def _all(repo: Path) -> dict[str, _Commit]:
    out = subprocess.run(["git", "-C", str(repo), "log", "--all", "--format=%H%x09%P%x09%ae%x09%at%x09%ct%x09%s"],
                         capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        sha, parents, email, at, ct, subject = line.split("\t", 5)
        found[sha] = _Commit(sha, tuple(parents.split()), email, datetime.fromtimestamp(int(at), UTC),
                             datetime.fromtimestamp(int(ct), UTC), subject, ())
    return found


def ingest(store: Store, config: Config, root: Path) -> None:
    from ..ingest import ingest_webhook_events

    events = [json.loads(line) for line in (root / FILE).read_text().splitlines() if line]
    ingest_webhook_events(store, config, [("github", kind, delivery, payload) for kind, delivery, payload in events],
                          received_at=WINDOW_END)


def hints(window: str) -> list[str]:
    return [f"  fireline dora {window} --stages",
            f"  fireline explain lead-time {window} --team C++ --stage review"]
