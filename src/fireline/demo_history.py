"""Machinery behind the demo organisation: people, wall clocks and git history.

Every repository is written by a single ``git fast-import`` process fed from a
time-ordered timeline, so six months of history take well under a second per repo
and the resulting commit shas depend only on the seeded inputs.
"""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path, PurePosixPath
from typing import IO
from zoneinfo import ZoneInfo

NULL_SHA = "0" * 40
Changes = Mapping[str, str | None]  # path -> new content, None deletes the file


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    email: str
    team: str
    tz: str

    def ident(self, when: datetime) -> str:
        return f"{self.name} <{self.email}> {git_date(when, self.tz)}"


def git_date(when: datetime, tz: str) -> str:
    """Epoch seconds plus the +HHMM offset the person's clock showed at that instant."""
    # The offset comes from the UTC instant, so DST gaps and overlaps resolve the way
    # a real laptop clock would resolve them.
    offset = when.astimezone(ZoneInfo(tz)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{int(when.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def wall_clock(day: date, hour: int, minute: int, tz: str, second: int = 0) -> datetime:
    """The UTC instant at which a clock in ``tz`` shows ``day hour:minute:second``."""
    return datetime.combine(day, time(hour, minute, second), ZoneInfo(tz)).astimezone(UTC)


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


def clean_git_env(home: str) -> dict[str, str]:
    """An environment in which no user, system or hook git setting can leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        HOME=home,
        XDG_CONFIG_HOME=home,
        LC_ALL="C",
        GIT_TERMINAL_PROMPT="0",
    )
    return env


def run_git(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
    return done.stdout


class GitRepo:
    """A repository written by one ``git fast-import`` process, tracking file state."""

    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self._env = dict(env)
        path.mkdir(parents=True)
        # An empty template keeps the machine's sample hooks and excludes out.
        run_git(["init", "-q", "--template=", "-b", "main", str(path)], path, env)
        self._marks_file = path / ".git" / "fireline-marks"
        self._proc = subprocess.Popen(
            # No reflog: it would record this machine's user and clock, not the story's.
            ["git", "-c", "core.logAllRefUpdates=false", "fast-import", "--quiet", "--done",
             f"--export-marks={self._marks_file}"],
            cwd=path,
            env=self._env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._buf = bytearray()
        self._mark = 0
        self.tips: dict[str, int] = {}
        self.files: dict[str, dict[str, str]] = {"main": {}}
        self._bases: dict[str, dict[str, str]] = {}

    def _emit(self, chunk: str | bytes) -> None:
        self._buf += chunk.encode() if isinstance(chunk, str) else chunk
        if len(self._buf) > 1 << 20:
            self._flush()

    def _flush(self) -> None:
        stdin: IO[bytes] | None = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(bytes(self._buf))
            stdin.flush()
        except BrokenPipeError:
            self._fail()
        self._buf.clear()

    def _fail(self) -> None:
        self._proc.kill()
        _, err = self._proc.communicate()
        raise RuntimeError(f"git fast-import failed in {self.path}: {err.decode().strip()}")

    def _data(self, text: str) -> bytes:
        raw = text.encode()
        return f"data {len(raw)}\n".encode() + raw + b"\n"

    def commit(
        self,
        branch: str,
        author: Person,
        when: datetime,
        message: str,
        changes: Changes,
        *,
        committer: Person | None = None,
        committed: datetime | None = None,
        merge: str | None = None,
    ) -> int:
        self._mark += 1
        head = [
            f"commit refs/heads/{branch}",
            f"mark :{self._mark}",
            f"author {author.ident(when)}",
            f"committer {(committer or author).ident(committed or when)}",
        ]
        self._emit("\n".join(head) + "\n")
        self._emit(self._data(message if message.endswith("\n") else message + "\n"))
        if branch in self.tips:
            self._emit(f"from :{self.tips[branch]}\n")
        if merge is not None:
            self._emit(f"merge :{self.tips[merge]}\n")
        state = self.files.setdefault(branch, {})
        for path, content in sorted(changes.items()):
            if content is None:
                self._emit(f"D {path}\n")
                state.pop(path, None)
            else:
                self._emit(f"M 100644 inline {path}\n")
                self._emit(self._data(content))
                state[path] = content
        self._emit("\n")
        self.tips[branch] = self._mark
        return self._mark

    def branch_off(self, branch: str, source: str) -> None:
        self.tips[branch] = self.tips[source]
        self.files[branch] = dict(self.files[source])
        self._bases[branch] = dict(self.files[source])

    def merge_changes(self, feature: str) -> dict[str, str | None]:
        """What the feature branch changed since it forked: a conflict-free 3-way merge."""
        base, tip = self._bases[feature], self.files[feature]
        changed: dict[str, str | None] = {p: c for p, c in tip.items() if base.get(p) != c}
        changed.update({p: None for p in base if p not in tip})
        return changed

    def delete_branch(self, branch: str) -> None:
        # Merged feature branches are gone on the remote, so a clone would not show them.
        self._emit(f"reset refs/heads/{branch}\nfrom {NULL_SHA}\n\n")
        del self.tips[branch], self.files[branch], self._bases[branch]

    def sha(self, mark: int) -> str:
        """The sha fast-import gave a commit, needed inside later commit messages."""
        self._emit(f"get-mark :{mark}\n")
        self._flush()
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().decode().strip()
        if len(line) != 40:
            self._fail()
        return line

    def annotated_tag(self, name: str, mark: int, tagger: Person, when: datetime, msg: str) -> None:
        self._emit(f"tag {name}\nfrom :{mark}\ntagger {tagger.ident(when)}\n")
        self._emit(self._data(msg))

    def lightweight_tag(self, name: str, mark: int) -> None:
        self._emit(f"reset refs/tags/{name}\nfrom :{mark}\n\n")

    def finish(self) -> dict[int, str]:
        """Close the stream, check out main like a clone would, return mark -> sha."""
        self._emit("done\n")
        self._flush()
        _, err = self._proc.communicate()
        if self._proc.returncode != 0:
            raise RuntimeError(f"git fast-import failed in {self.path}: {err.decode().strip()}")
        marks: dict[int, str] = {}
        for line in self._marks_file.read_text().splitlines():
            mark, sha = line.split()
            marks[int(mark[1:])] = sha
        self._marks_file.unlink()
        run_git(["read-tree", "--reset", "-u", "HEAD"], self.path, self._env)
        return marks


_WORDS = ("cache", "retry", "quota", "batch", "index", "limit", "window", "buffer", "label",
          "route", "shard", "token", "budget", "cursor", "lease", "epoch")
_COMMENT = {".py": "#", ".sh": "#", ".yml": "#", ".yaml": "#", ".tf": "#", ".md": "#",
            ".ts": "//", ".tsx": "//", ".cpp": "//", ".h": "//", ".txt": "#"}
_TEMPLATES = {
    ".tf": 'resource "null_resource" "{w}_{n}" {{ triggers = {{ rev = "{n}" }} }}',
    ".yml": "- name: ensure {w} {n}",
    ".yaml": "{w}_{n}: {n}",
    ".sh": 'echo "{w} step {n}"',
    ".py": "def {w}_{n}() -> int: return {n}",
    "test.py": "def test_{w}_{n}() -> None: assert {n} == {n}",
    ".ts": "export const {w}{n} = {n};",
    ".tsx": "export const {w}{n} = () => <span>{w} {n}</span>;",
    "test.ts": 'it("handles {w} {n}", () => expect({n}).toBe({n}));',
    "test.tsx": 'it("renders {w} {n}", () => expect(render({n})).toBeTruthy());',
    ".cpp": "int {w}_{n}() {{ return {n}; }}",
    "test.cpp": "TEST(Pricing, {w}{n}) {{ EXPECT_EQ({n}, {n}); }}",
    ".h": "int {w}_{n}();",
    ".md": "- {w} note {n}",
}


class Workshop:
    """One repository's history being planned on a timeline and written in time order."""

    def __init__(self, repo: GitRepo, seed: int) -> None:
        self.git = repo
        self.rng = random.Random(seed)
        self.marks: dict[str, int] = {}  # notable commits by name
        self._events: list[tuple[datetime, int, Callable[[], None]]] = []
        self._n = 0

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        self._events.append((when, len(self._events), action))

    def run(self) -> None:
        # Landing order = time order, so every branch tip seen by an action is "now".
        for _, _, action in sorted(self._events, key=lambda e: (e[0], e[1])):
            action()
        self._events.clear()

    def line(self, path: str) -> str:
        self._n += 1
        name = PurePosixPath(path).name
        ext = PurePosixPath(path).suffix
        key = f"test{ext}" if "test" in name and f"test{ext}" in _TEMPLATES else ext
        template = _TEMPLATES.get(key, "# {w} {n}")
        return template.format(w=self.rng.choice(_WORDS), n=self._n)

    def new_file(self, path: str, size: int = 10) -> str:
        head = f"{_COMMENT.get(PurePosixPath(path).suffix, '#')} {path}"
        return "\n".join([head, *(self.line(path) for _ in range(size))]) + "\n"

    def edited(self, branch: str, paths: Sequence[str]) -> dict[str, str]:
        """New contents for ``paths``: a few lines dropped, a few added (numstat shows both)."""
        out: dict[str, str] = {}
        state = self.git.files[branch]
        for path in paths:
            if path not in state:
                out[path] = self.new_file(path)
                continue
            lines = state[path].splitlines()
            removable = max(len(lines) - 4, 0)
            drop = min(removable, self.rng.randint(0, 3) + (len(lines) > 60) * 4)
            for _ in range(drop):
                del lines[self.rng.randrange(1, len(lines))]
            for _ in range(self.rng.randint(1, 7)):
                lines.insert(self.rng.randint(1, len(lines)), self.line(path))
            out[path] = "\n".join(lines) + "\n"
        return out

    def commit_edit(self, branch: str, author: Person, when: datetime, message: str,
                    paths: Sequence[str], key: str | None = None) -> int:
        mark = self.git.commit(branch, author, when, message, self.edited(branch, paths))
        if key:
            self.marks[key] = mark
        return mark

    def revert(self, author: Person, when: datetime, key: str, subject: str,
               before: Changes) -> int:
        """A revert made the git way: restore the files, cite the full sha."""
        sha = self.git.sha(self.marks[key])
        msg = f'Revert "{subject}"\n\nThis reverts commit {sha}.\n'
        mark = self.git.commit("main", author, when, msg, before)
        self.marks[f"revert:{key}"] = mark
        return mark


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
        shop.at(when, lambda a=author, w=when, s=subject, p=paths:
                shop.commit_edit("main", a, w, s, p))


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
        shop.at(when, lambda m=msg, w=when, f=(i == 0): work(m, w, f))

    def merge() -> None:
        msg = f"Merge pull request #{number} from fireline-demo/{branch}\n\n{subject}\n"
        changes = shop.git.merge_changes(branch)
        shop.git.commit("main", merger, merged, msg, changes, committer=bot, merge=branch)
        shop.git.delete_branch(branch)

    shop.at(merged, merge)
