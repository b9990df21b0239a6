"""Knowledge: truck factor (Avelino et al., ICPC 2016), knowledge map, hotspots, docs beside code.

Pure: Ibis tables in (read once into rows), plain dicts out; "now" is a parameter. The
history comes from the store's single git pass (see knowledge_history).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ibis

from ..config import path_matches
from ..identity import People
from .knowledge_history import Developer, FileStats, History, load_history

__all__ = ["authors_of", "doa", "knowledge_report", "months_before", "silos", "truck_factor"]

# The degree-of-authorship model fitted by Fritz et al. and used by Avelino et al.
DOA_BASE, DOA_FA, DOA_DL, DOA_AC = 3.293, 1.098, 0.164, 0.321
AUTHOR_NORMALISED = 0.75  # a file's author has a DOA above 75% of the file's best ...
AUTHOR_ABSOLUTE = 3.293  # ... and at least the base value (i.e. did not lose it to others' changes)
COVERAGE = 0.5  # the truck has hit once fewer than half of the files keep an author


def doa(fa: bool, dl: int, ac: int) -> float:
    """Degree of authorship: FA = created the file, DL = own changes, AC = others' changes."""
    return DOA_BASE + DOA_FA * (1 if fa else 0) + DOA_DL * dl - DOA_AC * math.log(1 + ac)


def doa_of(stats: FileStats) -> dict[str, float]:
    """Every developer who touched the file -> their DOA (the others' DOA is below the base anyway)."""
    total = sum(stats.changes.values())  # bots' changes (left out) cost no one authorship
    return {dev: doa(dev == stats.creator, n, total - n) for dev, n in stats.changes.items()}


def authors_of(stats: FileStats) -> set[str]:
    scores = doa_of(stats)
    best = max(scores.values(), default=0.0)
    if best <= 0:
        return set()
    return {dev for dev, d in scores.items() if d / best > AUTHOR_NORMALISED and d >= AUTHOR_ABSOLUTE}


@dataclass
class TruckFactor:
    value: int
    removed: list[str]  # the developers removed, in order, until the truck hit
    files: int
    coverage: float  # share of files with an author before any removal

    def as_dict(self, names: Mapping[str, str]) -> dict:
        return {"value": self.value, "removed": [names.get(d, d) for d in self.removed], "files": self.files,
                "coverage": round(self.coverage, 4)}


def truck_factor(file_authors: Mapping[str, set[str]], names: Mapping[str, str] | None = None) -> TruckFactor:
    """Greedy truck factor: remove the top author (most authored files; ties by name) until
    fewer than half of the files keep at least one author. TF = developers removed."""
    names = names or {}
    total = len(file_authors)
    if total == 0:
        return TruckFactor(0, [], 0, 0.0)
    remaining = {path: set(a) for path, a in file_authors.items()}
    first = sum(1 for a in remaining.values() if a) / total
    removed: list[str] = []
    while sum(1 for a in remaining.values() if a) / total >= COVERAGE:
        counts = Counter(dev for a in remaining.values() for dev in a)
        top = min(counts, key=lambda d: (-counts[d], names.get(d, d), d))
        removed.append(top)
        for a in remaining.values():
            a.discard(top)
    return TruckFactor(len(removed), removed, total, first)


def months_before(now: datetime, months: int) -> datetime:
    """The same wall-clock instant `months` calendar months earlier (day clamped to the month's end)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    month += 1
    following = datetime(year + (month == 12), month % 12 + 1, 1)
    last_day = (following - timedelta(days=1)).day
    return now.replace(year=year, month=month, day=min(now.day, last_day))


def _top_dir(path: str) -> str:
    return path.split("/", 1)[0] if "/" in path else "."


def group_files(paths: Iterable[str], by: str, services: list[dict]) -> dict[str, list[str]]:
    """Group name -> paths: top-level directory ('.' for the root), or service by its path globs
    (a service without globs owns the whole repository; files no service claims go to '(other)')."""
    groups: dict[str, list[str]] = {}
    for path in sorted(paths):
        if by == "service":
            names = [s["name"] for s in services if not s.get("paths") or path_matches(path, s["paths"])]
            for name in names or ["(other)"]:
                groups.setdefault(name, []).append(path)
        else:
            groups.setdefault(_top_dir(path), []).append(path)
    return dict(sorted(groups.items()))


def is_readme(path: str) -> bool:
    return path.rsplit("/", 1)[-1].lower().startswith("readme")


def is_runbook(path: str) -> bool:
    return "runbook" in path.lower()


def _docs(group: str, paths: list[str], files: Mapping[str, FileStats], all_runbooks: list[str]) -> dict:
    """README and runbook beside the group's code, and how far the code has moved on since."""
    readmes = [p for p in paths if is_readme(p)]
    # Runbooks often live together (docs/runbooks/<service>.md): one named after the group counts too.
    runbooks = sorted({p for p in paths if is_runbook(p)}
                      | {p for p in all_runbooks if group != "." and group.lower() in p.lower()})
    code = [p for p in paths if not is_readme(p) and not is_runbook(p)]
    code_last = max((files[p].last_changed for p in code), default=None)

    def kind(found: list[str]) -> dict | None:
        if not found:
            return None
        newest = max(found, key=lambda p: (files[p].last_changed, p))
        last = files[newest].last_changed
        stale = round((code_last - last).total_seconds() / 86400, 1) if code_last else None
        return {"path": newest, "last_changed": last, "stale_days": stale}

    return {"code_last_changed": code_last, "readme": kind(readmes), "runbook": kind(runbooks)}


def _owners(stats: FileStats, authors: set[str], names: Mapping[str, str]) -> list[str]:
    if authors:
        return sorted(names[d] for d in authors)
    # No one holds enough authorship: name the strongest contributor, marked as such.
    scores = doa_of(stats)
    if not scores:
        return []  # only bots (left out) changed it
    best = min(scores, key=lambda d: (-scores[d], names[d]))
    return [f"{names[best]} (weak)"]


def _group_tf(file_authors: Mapping[str, set[str]], names: Mapping[str, str]) -> dict:
    if not file_authors:  # a group only bots changed (generated manifests, lockfiles): no one to lose
        return {"value": None, "removed": [], "files": 0, "coverage": 0.0,
                "unknown": "only bots changed these files"}
    return truck_factor(file_authors, names).as_dict(names)


def _derived(history: History, by: str) -> dict[object, Any]:
    """What `analyse` and `silos` read of a history's files, the same at any `now`: every file's authors,
    the runbooks and the groups `by`, worked out once per history (a page asks at several dates)."""
    derived = history.derived
    if "authors" not in derived:
        derived["authors"] = {p: authors_of(s) for p, s in history.files.items()}
        derived["runbooks"] = [p for p in history.files if is_runbook(p)]
    if ("groups", by) not in derived:
        derived[("groups", by)] = group_files(history.files, by, history.services)
    return derived


def analyse(history: History, *, by: str = "dir", now: datetime | None = None, active_months: int = 6,
            top: int = 10) -> dict:
    """The whole knowledge report for one replayed history."""
    files = history.files
    devs: dict[str, Developer] = history.developers
    names = {k: d.name for k, d in devs.items()}
    now = now or history.newest
    since = months_before(now, active_months) if now else None
    active = {k for k, d in devs.items() if since is not None and d.last_commit >= since}
    derived = _derived(history, by)
    file_authors: dict[str, set[str]] = derived["authors"]
    # Files only bots changed (left out, fireline.identity) are nobody's knowledge: no part of any truck factor.
    known = {p: a for p, a in file_authors.items() if files[p].changes}
    authored = Counter(dev for a in file_authors.values() for dev in a)

    groups = []
    for name, paths in derived[("groups", by)].items():
        sub = {p: known[p] for p in paths if p in known}
        per_author = Counter(dev for authors in sub.values() for dev in authors)
        orphaned = [p for p in paths if sub.get(p) and not (sub[p] & active)]
        groups.append({
            "name": name,
            "files": len(paths),
            "lines": sum(max(files[p].lines, 0) for p in paths),
            "truck_factor": _group_tf(sub, names),
            "authors": [{"name": names[d], "files": n, "active": d in active,
                         "last_commit": devs[d].last_commit}
                        for d, n in sorted(per_author.items(), key=lambda kv: (-kv[1], names[kv[0]]))],
            "orphaned_files": len(orphaned),
            "orphaned_lines": sum(max(files[p].lines, 0) for p in orphaned),
            "orphaned": orphaned,
            "unowned_files": sum(1 for a in sub.values() if not a),
            "bot_only_files": len(paths) - len(sub),
            "docs": _docs(name, paths, files, derived["runbooks"]),
        })

    hot = sorted(files.values(), key=lambda s: (-(s.total_changes * max(s.lines, 0)), s.path))[:top]
    return {
        "repo": history.repo,
        "head": history.head,
        "by": by,
        "now": now,
        "active_since": since,
        "active_months": active_months,
        "files": len(files),
        "truck_factor": truck_factor(known, names).as_dict(names),
        "groups": groups,
        "hotspots": [{"path": s.path, "changes": s.total_changes, "lines": max(s.lines, 0),
                      "score": s.total_changes * max(s.lines, 0),
                      "owners": _owners(s, file_authors[s.path], names)} for s in hot],
        "developers": [{"name": d.name, "emails": d.emails, "last_commit": d.last_commit,
                        "active": k in active, "files_authored": authored.get(k, 0)}
                       for k, d in sorted(devs.items(), key=lambda kv: (-authored.get(kv[0], 0), kv[1].name))],
        **people_of(history),
    }


def silos(history: History, *, by: str = "service") -> list[dict]:
    """What `analyse` says of each group's silos at ANY "now", computed once (the debt ledger asks it
    at every month's end): a group has orphaned files at "now" exactly when its `active_since` is
    after `orphaned_before` (the newest last commit of the authors of its least recently held file;
    None: no authored file), and its truck factor does not depend on "now" at all."""
    devs = history.developers
    names = {k: d.name for k, d in devs.items()}
    files = history.files
    derived = _derived(history, by)
    known = {p: a for p, a in derived["authors"].items() if files[p].changes}
    out = []
    for name, paths in derived[("groups", by)].items():
        sub = {p: known[p] for p in paths if p in known}
        held = [max(devs[d].last_commit for d in authors) for authors in sub.values() if authors]
        out.append({"name": name, "files": len(paths), "truck_factor": _group_tf(sub, names)["value"],
                    "orphaned_before": min(held, default=None)})
    return out


def people_of(history: History) -> dict:
    """Who was merged into whom, and the bots left out of the figures (fireline.identity)."""
    directory = history.directory
    if directory is None:
        return {"identities": [], "bots_left_out": [], "include_bots": False}
    include = directory.people.include_bots
    return {"identities": directory.merged(), "bots_left_out": [] if include else directory.bots(),
            "include_bots": include}


def knowledge_report(tables: Mapping[str, ibis.Table], repo: str, *, people: People | None = None,
                     head: str | None = None, by: str = "dir", now: datetime | None = None,
                     active_months: int = 6, top: int = 10) -> dict:
    """Read `repo`'s history from the store's tables and analyse it (see `analyse`)."""
    history = load_history(tables, repo, people=people, head=head)
    return analyse(history, by=by, now=now, active_months=active_months, top=top)
