"""The ordinary commits and pull requests around the story, drawn from a seeded generator."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .dates import wall_clock
from .people import Person
from .workshop import Workshop


def work_day(rng: random.Random, start: date, end: date, weekend_rate: float = 0.06) -> date:
    """A day in [start, end), mostly a weekday."""
    span = (end - start).days
    while True:
        day = start + timedelta(days=rng.randrange(span))
        if day.weekday() < 5 or rng.random() < weekend_rate:
            return day


def work_instant(rng: random.Random, person: Person, day: date) -> datetime:
    """A commit time on ``day`` in the person's zone: office hours, sometimes late."""
    roll = rng.random()
    hour = rng.choice((21, 22, 23)) if roll < 0.07 else rng.randint(9, 17)
    return wall_clock(day, hour, rng.randrange(60), person.tz, rng.randrange(60))


@dataclass(frozen=True)
class Area:
    """Files that change together, with what commit subjects call each of them."""

    pairs: tuple[tuple[str, str | None], ...]  # (source, its test file)
    nouns: tuple[str, ...]  # one per pair; "a|b" offers alternatives
    weight: float = 1.0
    owner: Person | None = None  # a knowledge silo: the only person who commits here
    until: date | None = None

    def __post_init__(self) -> None:
        if len(self.nouns) != len(self.pairs):
            raise ValueError(f"{len(self.pairs)} file pairs but {len(self.nouns)} nouns")


_SUBJECTS = {
    "feature": ("Add {noun}", "Implement {noun}", "Support {noun}", "feat: add {noun}"),
    "refactor": ("Refactor {noun}", "Simplify {noun}", "Extract {noun} helper"),
    "chore": ("chore: tidy {noun}", "Update {noun} configuration", "docs: document {noun}"),
    "fix": ("Fix {noun} {bug}", "fix: {noun} {bug}", "Fix {noun} {bug}"),
}
_BUGS = ("when the input is empty", "on retry", "after a restart", "for non-UTC timestamps",
         "under load", "with unicode names", "off-by-one at the boundary", "on shutdown")
_TEST_RATE = {"feature": 0.75, "refactor": 0.3, "chore": 0.0, "fix": 0.5}


def plan_change(rng: random.Random, area: Area) -> tuple[str, list[str]]:
    """A commit subject and the files it touches; fixes only sometimes bring a test."""
    kind = rng.choices(list(_SUBJECTS), weights=(0.5, 0.15, 0.12, 0.23))[0]
    wide = kind in ("feature", "refactor") and len(area.pairs) > 1 and rng.random() < 0.4
    pairs = rng.sample(area.pairs, 2 if wide else 1)
    noun = rng.choice(area.nouns[area.pairs.index(pairs[0])].split("|"))
    subject = rng.choice(_SUBJECTS[kind]).format(noun=noun, bug=rng.choice(_BUGS))
    paths = [src for src, _ in pairs]
    if rng.random() < _TEST_RATE[kind]:
        paths += [test for _, test in pairs if test]
    return subject, paths


Members = Callable[[date], Sequence[Person]]


def random_work(shop: Workshop, count: int, areas: Sequence[Area], members: Members,
                start: date, end: date) -> None:
    """Plan ``count`` ordinary commits straight to main."""
    rng = shop.rng
    for _ in range(count):
        area = rng.choices(areas, weights=[a.weight for a in areas])[0]
        day = work_day(rng, start, area.until or end)
        author = area.owner or rng.choice(members(day))
        when = work_instant(rng, author, day)
        subject, paths = plan_change(rng, area)
        shop.at(when, functools.partial(shop.commit_edit, "main", author, when, subject, paths))


_FOLLOW_UPS = ("Address review comments", "Add tests for {noun}", "Tidy {noun}",
               "Handle edge cases in {noun}")


def pull_requests(shop: Workshop, count: int, areas: Sequence[Area], members: Members,
                  start: date, end: datetime, merge_rate: float, bot: Person,
                  first_number: int = 101) -> None:
    """Plan PRs: feature branches joined by true merges, or squashed into one commit."""
    rng = shop.rng
    plans = []
    for _ in range(count):
        area = rng.choices(areas, weights=[a.weight for a in areas])[0]
        day = work_day(rng, start, end.date() - timedelta(days=5))
        author = rng.choice(members(day))
        subject, paths = plan_change(rng, area)
        times = [work_instant(rng, author, day)]
        for _ in range(rng.choices((0, 1, 2, 3), weights=(3, 4, 3, 2))[0]):
            day += timedelta(days=rng.choice((0, 0, 1)))
            nxt = work_instant(rng, author, day)
            times.append(max(nxt, times[-1] + timedelta(minutes=rng.randint(20, 150))))
        merger = rng.choice([p for p in members(day) if p != author])
        merged = work_instant(rng, merger, day + timedelta(days=rng.choice((0, 1, 1, 2))))
        merged = max(merged, times[-1] + timedelta(minutes=rng.randint(30, 240)))
        if merged < end:
            plans.append((times, author, merger, merged, subject, paths, rng.random() < merge_rate))
    plans.sort(key=lambda p: p[0][0])
    for number, plan in enumerate(plans, first_number):
        _schedule_pr(shop, number, *plan, bot=bot)


def _schedule_pr(shop: Workshop, number: int, times: list[datetime], author: Person,
                 merger: Person, merged: datetime, subject: str, paths: list[str],
                 true_merge: bool, bot: Person) -> None:
    noun = subject.split(" ", 1)[1]
    branch = f"feature/{number}-" + "-".join(noun.lower().replace(":", "").split()[:4])
    follow_ups = [shop.rng.choice(_FOLLOW_UPS).format(noun=noun) for _ in times[1:]]
    if not true_merge:
        body = "\n".join(f"* {s}" for s in [subject, *follow_ups])

        def squash() -> None:
            msg = f"{subject} (#{number})\n\n{body}\n"
            changes = shop.edited("main", paths)
            # GitHub squashes keep the author's time and commit as the bot at merge time.
            shop.git.commit("main", author, times[-1], msg, changes, committer=bot,
                            committed=merged)

        shop.at(merged, squash)
        return

    def work(msg: str, when: datetime, first: bool) -> None:
        if first:
            shop.git.branch_off(branch, "main")
        shop.commit_edit(branch, author, when, msg, paths)

    for i, (msg, when) in enumerate(zip([subject, *follow_ups], times, strict=True)):
        shop.at(when, functools.partial(work, msg, when, i == 0))

    def merge() -> None:
        msg = f"Merge pull request #{number} from fireline-demo/{branch}\n\n{subject}\n"
        changes = shop.git.merge_changes(branch)
        shop.git.commit("main", merger, merged, msg, changes, committer=bot, merge=branch)
        shop.git.delete_branch(branch)

    shop.at(merged, merge)
