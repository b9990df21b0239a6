"""Generate a large, deterministic git repository with one `git fast-import` process.

Why fast-import: `git commit` in a loop manages ~100 commits/s; one fast-import stream
writes 100,000 commits (with their blobs, merges and annotated tags) in well under a minute.

Shape (all from a seeded `random.Random`, so the same parameters give the same shas):
- one initial commit adding FOLDERS x FILES_PER_FOLDER small text files;
- then commits changing 1-5 files each, mostly inside one folder (real changes cluster);
- every ~50 commits a short topic branch (2-4 commits) forks from main, main moves on
  with 1-2 commits touching other files, and a merge commit joins them;
- about one pure rename every ~1,000 commits (exercises `git log -M`);
- ~2% "hotfix:" subjects and ~1% reverts, so rework detection has something to find;
- commit times spread evenly (with jitter) over SPAN_DAYS, authors in ten UTC offsets,
  some author times earlier than committer times;
- an annotated tag `v<N>` on main every TAG_EVERY commits (tagger time a little later).

The repository is cached under bench/out/repos/ keyed by its parameters.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

GEN_VERSION = 1  # bump when the generator's output changes, so caches are not reused
FOLDERS = 100
FILES_PER_FOLDER = 20
SPAN_DAYS = 3 * 365
TAG_EVERY = 50
START_EPOCH = 1_641_168_000  # 2022-01-03 00:00:00 UTC, a Monday
OFFSETS = ("+0000", "+0100", "+0200", "-0500", "-0800", "+0530", "+0900", "-0300", "+1000", "+0545")
WORDS = ("alpha", "beta", "gamma", "delta", "retry", "timeout", "cache", "queue", "parser", "export",
         "purge", "disk", "alert", "metric", "config", "deploy", "rollback", "index", "shard", "token")


@dataclass
class _State:
    rng: random.Random
    contents: dict[str, list[str]]  # path -> lines, the newest version on any branch
    blob_of: dict[str, int] = field(default_factory=dict)  # path -> mark of its newest blob
    mark: int = 0
    clock: float = START_EPOCH
    step: float = 1.0
    out: list[bytes] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # for O(1) random picks
    folders: dict[str, list[str]] = field(default_factory=dict)
    folder_names: list[str] = field(default_factory=list)

    def index(self) -> None:
        self.paths = sorted(self.contents)
        self.folders = {}
        for p in self.paths:
            self.folders.setdefault(p.split("/", 1)[0], []).append(p)
        self.folder_names = sorted(self.folders)

    def next_mark(self) -> int:
        self.mark += 1
        return self.mark


def _people(rng: random.Random) -> list[tuple[str, str, str]]:
    first = ("Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Alan", "Radia")
    last = ("Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen",
            "Turing", "Perlman")
    people = []
    for i in range(60):
        name = f"{first[i % 10]} {last[(i * 7 + i // 10) % 10]}"
        people.append((name, f"dev{i:02d}@example.com", OFFSETS[rng.randrange(len(OFFSETS))]))
    return people


def _data(payload: str) -> bytes:
    raw = payload.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def _new_line(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)} = {rng.getrandbits(32):08x}  # {rng.choice(WORDS)}"


def _edit(st: _State, path: str) -> int:
    """Change a file a little (replace, insert or delete lines), emit its blob, return the mark."""
    rng, lines = st.rng, st.contents[path]
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        if op < 0.45 and lines:
            lines[rng.randrange(len(lines))] = _new_line(rng)
        elif op < 0.8 or len(lines) < 6:
            lines.insert(rng.randint(0, len(lines)), _new_line(rng))
        elif len(lines) > 6:
            del lines[rng.randrange(len(lines))]
    if len(lines) > 60:  # keep files small: trim the tail
        del lines[40:]
    return _blob(st, path)


def _blob(st: _State, path: str) -> int:
    mark = st.next_mark()
    st.out.append(b"blob\nmark :%d\n" % mark + _data("\n".join(st.contents[path]) + "\n"))
    st.blob_of[path] = mark
    return mark


def _pick_files(st: _State, avoid: set[str]) -> list[str]:
    """1-5 files, 80% from one folder; rejection sampling keeps this O(1) per pick."""
    rng = st.rng
    count = rng.choices((1, 2, 3, 4, 5), weights=(35, 30, 18, 10, 7))[0]
    local = st.folders[rng.choice(st.folder_names)]
    picked: list[str] = []
    for _ in range(200):  # bounded: a tiny folder mostly under `avoid` must not loop forever
        if len(picked) == count:
            break
        pool = local if rng.random() < 0.8 else st.paths
        p = rng.choice(pool)
        if p not in picked and p not in avoid:
            picked.append(p)
    return picked or [next(p for p in st.paths if p not in avoid)]


def _commit(st: _State, people: list[tuple[str, str, str]], ref: str, parents: list[int],
            subject: str, edits: list[str], extra: bytes = b"") -> int:
    rng = st.rng
    st.clock += st.step * rng.uniform(0.2, 1.8)
    committer_time = int(st.clock)
    author = people[rng.randrange(len(people))]
    committer = author if rng.random() < 0.9 else people[rng.randrange(len(people))]
    author_time = committer_time - (rng.randrange(3 * 86400) if rng.random() < 0.2 else 0)
    body = "" if rng.random() < 0.7 else f"\n\nWhy: {rng.choice(WORDS)} was {rng.choice(WORDS)}.\n"
    lines = b"".join(b"M 100644 :%d %s\n" % (_edit(st, p), p.encode()) for p in edits)
    mark = st.next_mark()
    head = (f"commit {ref}\nmark :{mark}\n"
            f"author {author[0]} <{author[1]}> {author_time} {author[2]}\n"
            f"committer {committer[0]} <{committer[1]}> {committer_time} {committer[2]}\n").encode()
    links = b"".join((b"from :%d\n" if i == 0 else b"merge :%d\n") % p for i, p in enumerate(parents))
    st.out.append(head + _data(subject + body) + links + extra + lines + b"\n")
    return mark


def _subject(st: _State, paths: list[str]) -> str:
    roll = st.rng.random()
    where = paths[0].split("/", 1)[0]
    if roll < 0.02:
        return f"hotfix: {st.rng.choice(WORDS)} in {where}"
    if roll < 0.03:
        return f'Revert "Tune {st.rng.choice(WORDS)} in {where}"'
    return f"{st.rng.choice(('Update', 'Fix', 'Tune', 'Refactor', 'Add'))} {st.rng.choice(WORDS)} in {where}"


def stream(commits: int, seed: int) -> tuple[list[bytes], int]:
    """The fast-import stream (as chunks) and the number of tags it creates."""
    rng = random.Random(seed)
    people = _people(rng)
    contents = {f"d{f:02d}/f{i:02d}.txt": [_new_line(rng) for _ in range(rng.randint(8, 30))]
                for f in range(FOLDERS) for i in range(FILES_PER_FOLDER)}
    st = _State(rng, contents, step=SPAN_DAYS * 86400 / max(commits, 1))
    st.index()
    init_lines = b"".join(b"M 100644 :%d %s\n" % (_blob(st, p), p.encode()) for p in sorted(contents))
    # The first commit adds every file at once (the one commit with more than five files).
    st.clock -= st.step
    main = _commit(st, people, "refs/heads/main", [], "Initial import", [], extra=init_lines)
    done, tags, tag_due = 1, 0, False

    def tag_if_due(mark: int) -> None:
        nonlocal tags, tag_due
        if not tag_due:
            return
        tags += 1
        tag_due = False
        when = int(st.clock) + rng.randint(60, 1800)
        st.out.append(f"tag v{tags}\nfrom :{mark}\ntagger Release Bot <release@example.com> {when} +0000\n"
                      .encode() + _data(f"Release v{tags}"))

    def counted() -> None:
        nonlocal done, tag_due
        done += 1
        if done % TAG_EVERY == 0:
            tag_due = True

    while done < commits:
        left = commits - done
        if done % 50 == 25 and left >= 10:  # a topic branch, a main commit or two, then a merge
            topic_files = {p for _ in range(rng.randint(2, 4)) for p in _pick_files(st, set())}
            topic_list = sorted(topic_files)
            topic = main
            chunks = [topic_list[i::3] for i in range(3)]
            for i, chunk in enumerate(c for c in chunks if c):
                ref_parents = [topic] if i else [main]
                topic = _commit(st, people, "refs/heads/topic", ref_parents, _subject(st, chunk), chunk)
                counted()
            for _ in range(rng.randint(1, 2)):
                files = _pick_files(st, topic_files)
                main = _commit(st, people, "refs/heads/main", [main], _subject(st, files), files)
                counted()
                tag_if_due(main)
            merge_lines = b"".join(b"M 100644 :%d %s\n" % (st.blob_of[p], p.encode()) for p in topic_list)
            main = _commit(st, people, "refs/heads/main", [main, topic], "Merge branch 'topic'", [],
                           extra=merge_lines)
            counted()
            tag_if_due(main)
            continue
        if done % 997 == 500:  # a pure rename: the file moves to another folder
            old = rng.choice(st.paths)
            new = f"d{rng.randrange(FOLDERS):02d}/moved{done}.txt"
            st.contents[new] = st.contents.pop(old)
            st.blob_of[new] = st.blob_of.pop(old)
            st.index()  # rare (every ~1,000 commits), so a full re-index is cheap enough
            main = _commit(st, people, "refs/heads/main", [main], f"Move {old} to {new}", [],
                           extra=f"R {old} {new}\n".encode())
        else:
            files = _pick_files(st, set())
            main = _commit(st, people, "refs/heads/main", [main], _subject(st, files), files)
        counted()
        tag_if_due(main)
    return st.out, tags


def _run(*args: str, cwd: Path, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True)
    if proc.returncode:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode().strip()


def generate(out_dir: Path, commits: int, seed: int = 42) -> tuple[Path, dict]:
    """Path of the (possibly cached) repository and facts about it."""
    name = f"repo-c{commits}-s{seed}-v{GEN_VERSION}"
    repo, marker = out_dir / name, out_dir / f"{name}.json"
    if marker.exists() and repo.is_dir():
        return repo, {**json.loads(marker.read_text()), "cached": True}
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    started = time.perf_counter()
    _run("init", "-q", "-b", "main", cwd=repo)
    chunks, tags = stream(commits, seed)
    payload = b"".join(chunks)
    del chunks
    _run("fast-import", "--quiet", cwd=repo, input=payload)
    _run("update-ref", "-d", "refs/heads/topic", cwd=repo)
    imported = time.perf_counter() - started
    # Repack and write the commit-graph, as `git gc` would on a real clone, so the
    # baseline and fireline both read a normally packed repository.
    _run("gc", "-q", cwd=repo)
    facts = {
        "commits": int(_run("rev-list", "--count", "--all", cwd=repo)),
        "merges": int(_run("rev-list", "--count", "--merges", "--all", cwd=repo)),
        "tags": len(_run("tag", "-l", "v*", cwd=repo).split()),
        "files": len(_run("ls-tree", "-r", "--name-only", "main", cwd=repo).split()),
        "head": _run("rev-parse", "main", cwd=repo),
        "stream_bytes": len(payload),
        "generate_seconds": round(imported, 3),
        "gc_seconds": round(time.perf_counter() - started - imported, 3),
        "seed": seed, "version": GEN_VERSION, "planned_tags": tags,
    }
    marker.write_text(json.dumps(facts, indent=2))
    return repo, {**facts, "cached": False}


if __name__ == "__main__":
    import sys

    path, info = generate(Path(sys.argv[2] if len(sys.argv) > 2 else "bench/out/repos"), int(sys.argv[1]))
    print(path, json.dumps(info))
