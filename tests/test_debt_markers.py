"""The marker scan: TODO/FIXME/HACK/XXX in files at HEAD, blamed in one batched pass.

Real repositories built here, so every marker's author and date is known by construction;
the batched blame is also checked line by line against `git blame` itself.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import pytest

from fireline.debt import blame as blame_mod
from fireline.debt.markers import marker_pattern, scan_repo

from .gitrepo import GitRepo

ADA = "Ada Lovelace <ada@example.com>"
BOB = "Bob Byte <bob@example.com>"
CAT = "Cat Coder <cat@example.com>"


def t(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def build(repo: GitRepo) -> None:
    """Markers by three people at known dates, across a merge and a rename."""
    repo.commit("Start the job", t(1, 5), {"job.py": "def run():\n    # TODO: retry\n    pass\n"}, author=ADA)
    repo.commit("Add a hack", t(2, 3), {"job.py": "def run():\n    # TODO: retry\n    pass\n    x = 1  # HACK\n"},
                author=BOB)
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit("Topic work", t(3, 1), {"lib/util.py": "# FIXME: slow\nvalue = 1\n"}, author=CAT)
    repo.git("checkout", "-q", "main")
    repo.commit("Main work", t(3, 2), {"README.md": "todo list app (not a marker: lower case)\n"}, author=ADA)
    repo.git("merge", "-q", "--no-ff", "-m", "Merge topic", "topic", when=t(3, 10), author=ADA)
    # A rename carries its lines: the FIXME stays Cat's, from March 1st.
    repo.git("mv", "lib/util.py", "lib/helpers.py")
    repo.git("commit", "-q", "-m", "Rename util", when=t(4, 1), author=BOB)
    repo.commit("Edit helpers", t(4, 2), {"lib/helpers.py": "# FIXME: slow\nvalue = 2\n# XXX unsafe\n"}, author=BOB)


def test_markers_carry_their_author_and_date_through_merges_and_renames(repo):
    build(repo)
    result = scan_repo(repo.path)
    found = {(m.path, m.line): (m.word, m.author, m.time) for m in result.markers}
    assert found == {
        ("job.py", 2): ("TODO", "Ada Lovelace", t(1, 5)),
        ("job.py", 4): ("HACK", "Bob Byte", t(2, 3)),
        ("lib/helpers.py", 1): ("FIXME", "Cat Coder", t(3, 1)),  # from the topic branch, not the merge
        ("lib/helpers.py", 3): ("XXX", "Bob Byte", t(4, 2)),
    }
    assert result.blame_fallback_files == 0
    # One git log pass: the rename is known before it (the history's renames are listed first).
    assert result.blame_passes == 1


def test_whole_words_and_case_as_written():
    pattern = marker_pattern(["TODO", "FIXME", "HACK", "XXX"])
    hits = [bool(pattern.search(s)) for s in ("# TODO: x", "TODO(ann): y", "x = 1  # XXX", "todos", "TODOS",
                                               "XXXL size", "a_TODO", "FIXME!")]
    assert hits == [True, True, True, False, False, False, False, True]


def test_binary_huge_and_non_utf8_files_are_skipped_and_counted(repo):
    (repo.path / "logo.png").write_bytes(b"\x89PNG\x00\x01TODO binary")
    (repo.path / "latin1.py").write_bytes("# TODO: caf\xe9\n".encode("latin-1"))
    (repo.path / "big.txt").write_text("# TODO big\n" + "x" * 5000)
    repo.git("add", ".")
    repo.git("commit", "-q", "-m", "Assorted files", when=t(1, 2))
    repo.commit("Real code", t(1, 3), {"ok.py": "# FIXME: real\n"})
    result = scan_repo(repo.path, max_bytes=4096)
    assert result.skipped == {"binary": 1, "huge": 1, "not_utf8": 1, "other": 0, "generated": 0}
    assert result.files == 4 and result.scanned == 1
    assert [(m.path, m.word) for m in result.markers] == [("ok.py", "FIXME")]


def test_an_empty_repository_has_no_markers(repo):
    assert scan_repo(repo.path).markers == []


def _git_blame_shas(path, file: str) -> list[str]:
    out = subprocess.run(["git", "-C", str(path), "blame", "--porcelain", "HEAD", "--", file],
                         capture_output=True, text=True, check=True).stdout
    shas = {}
    for line in out.splitlines():
        parts = line.split(" ")
        if len(parts) >= 3 and len(parts[0]) == 40 and all(c in "0123456789abcdef" for c in parts[0]):
            shas[int(parts[2])] = parts[0]
    return [shas[n] for n in sorted(shas)]


# How the history is read: one pathspec pass, a pass per file in parallel, one unfiltered pass.
MODES = ["pathspec", "batches", "unfiltered"]


def _mode(monkeypatch, mode: str) -> None:
    if mode == "batches":
        monkeypatch.setattr(blame_mod, "MAX_PATHSPEC", 1)
    elif mode == "unfiltered":
        monkeypatch.setattr(blame_mod, "MAX_BATCHES", 0)


@pytest.mark.parametrize("mode", MODES)
def test_the_batched_blame_agrees_with_git_blame_line_by_line(repo, monkeypatch, mode):
    """Several branches editing the same files, merged back; with few files git filters the
    paths (in parallel batches), with many one unfiltered pass is filtered here: same answer."""
    _mode(monkeypatch, mode)
    body = {f"f{i}.txt": "".join(f"line {j}\n" for j in range(8)) for i in range(3)}
    repo.commit("base", t(1, 1), body, author=ADA)
    for n, who in enumerate((BOB, CAT)):
        repo.git("checkout", "-q", "-b", f"b{n}", "main")
        edited = {p: (repo.path / p).read_text().replace(f"line {n * 4 + 1}\n", f"line {n * 4 + 1} by {who[:3]}\n")
                  for p in body}
        repo.commit(f"branch {n}", t(2, 1 + n), edited, author=who)
        repo.git("checkout", "-q", "main")
        repo.commit(f"main {n}", t(2, 5 + n), {"f0.txt": (repo.path / "f0.txt").read_text() + f"tail {n}\n"},
                    author=ADA)
        repo.git("merge", "-q", "--no-ff", "-m", f"merge {n}", f"b{n}", when=t(2, 10 + n), author=ADA)
    head = repo.head()
    wanted = {}
    for name in ("f0.txt", "f1.txt", "f2.txt"):
        blob = repo.git("rev-parse", f"HEAD:{name}")
        wanted[name] = (blob, len((repo.path / name).read_text().splitlines()))
    result = blame_mod.blame_files(repo.path, head, wanted)
    assert result.fallback_files == 0 and result.passes == (3 if mode == "batches" else 1)
    for name in wanted:
        assert [o.sha for o in result.origins[name]] == _git_blame_shas(repo.path, name), name


def test_a_file_name_that_is_not_utf8_is_shown_as_the_rest_of_fireline_shows_it(tmp_path):
    # Regression: a Latin-1 file name came out as "caf\udce9.py" (a lone surrogate that strict JSON
    # readers refuse), while its hotspot and the store said "caf\ufffd.py"; its marker is still blamed.
    repo = GitRepo.create(tmp_path / "r")
    (repo.path / "caf\udce9.py").write_text("# TODO: accents\n")  # the byte 0xE9: Latin-1 "é"
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Add", when=t(2, 1), author_when=t(2, 1))
    (marker,) = scan_repo(repo.path).markers
    assert marker.path == "caf\ufffd.py"
    marker.path.encode("utf-8")  # encodable: no lone surrogate
    assert marker.sha == repo.head() and marker.time == t(2, 1)


@pytest.mark.parametrize("mode", MODES)
def test_content_lines_that_look_like_diff_headers_do_not_confuse_the_blame(repo, monkeypatch, mode):
    """A removed line "-- x" shows as "--- x" in a diff, an added "++ y" as "+++ y"; lines holding
    "diff --git" or "@@ -1 +1 @@" are content too: the blame must still agree with git's."""
    _mode(monkeypatch, mode)
    tricky = "-- a comment\n++ counter\ndiff --git a/x b/x\n@@ -1 +1 @@\nindex 0000..1111\nrename to y\n"
    repo.commit("base", t(1, 1), {"doc/tricky.md": tricky, "src/plain.py": "a = 1\n"}, author=ADA)
    changed = tricky.replace("-- a comment\n", "").replace("++ counter\n", "++ counter\n-- new\n+++ more\n")
    repo.commit("edit", t(1, 2), {"doc/tricky.md": changed, "src/plain.py": "a = 1\nb = 2\n"}, author=BOB)
    repo.commit("again", t(1, 3), {"doc/tricky.md": changed + "@@ -3,0 +4,2 @@\n"}, author=CAT)
    wanted = {name: (repo.git("rev-parse", f"HEAD:{name}"), len((repo.path / name).read_text().splitlines()))
              for name in ("doc/tricky.md", "src/plain.py")}
    result = blame_mod.blame_files(repo.path, repo.head(), wanted)
    assert result.fallback_files == 0
    for name in wanted:
        assert [o.sha for o in result.origins[name]] == _git_blame_shas(repo.path, name), name


@pytest.mark.parametrize("mode", ["batches", "unfiltered"])
def test_past_the_pathspec_limit_a_file_renamed_from_another_directory_keeps_its_authors(repo, monkeypatch, mode):
    """With many files the history is read in batches (or whole); a file that moved in from a directory
    outside its batch must still carry its lines' authors from before the move."""
    _mode(monkeypatch, mode)
    repo.commit("old home", t(1, 1), {"legacy/engine.py": "# TODO: tune\nspeed = 1\n", "app/a.py": "# FIXME\n"},
                author=ADA)
    (repo.path / "core").mkdir()
    repo.git("mv", "legacy/engine.py", "core/engine.py")
    repo.git("commit", "-q", "-m", "Move the engine", when=t(2, 1), author=BOB)
    repo.commit("more", t(3, 1), {"core/engine.py": "# TODO: tune\nspeed = 2\n", "app/b.py": "# XXX\n"}, author=CAT)
    result = scan_repo(repo.path)
    found = {(m.path, m.line): (m.author, m.time) for m in result.markers}
    assert found[("core/engine.py", 1)] == ("Ada Lovelace", t(1, 1))
    assert found[("app/b.py", 1)] == ("Cat Coder", t(3, 1))
    assert result.blame_fallback_files == 0
    for name in ("core/engine.py", "app/a.py", "app/b.py"):
        blamed = blame_mod.blame_files(repo.path, repo.head(), {
            name: (repo.git("rev-parse", f"HEAD:{name}"), len((repo.path / name).read_text().splitlines()))})
        assert [o.sha for o in blamed.origins[name]] == _git_blame_shas(repo.path, name)


@pytest.mark.parametrize("mode", ["pathspec", "batches"])
def test_a_file_moved_twice_is_read_in_one_pass_under_all_its_names(repo, monkeypatch, mode):
    """Each older name used to cost one more pass over the whole history (22 passes for 6 batches on a
    real 13,752-commit history); the renames are now listed first, so one pass per batch reads the file
    under every name it had, and the blame still agrees with git's."""
    _mode(monkeypatch, mode)
    lines = "".join(f"line {j}\n" for j in range(6))
    repo.commit("first home", t(1, 1), {"old/a.py": "# TODO: first\n" + lines, "keep.py": "# FIXME\n"}, author=ADA)
    (repo.path / "mid").mkdir()
    repo.git("mv", "old/a.py", "mid/a.py")
    repo.git("commit", "-q", "-m", "move once", when=t(1, 2), author=BOB)
    repo.commit("edit in the middle", t(1, 3), {"mid/a.py": "# TODO: first\n" + lines + "# XXX middle\n"},
                author=CAT)
    (repo.path / "new").mkdir()
    repo.git("mv", "mid/a.py", "new/a.py")
    repo.git("commit", "-q", "-m", "move twice", when=t(1, 4), author=BOB)
    repo.commit("unrelated file under an old name", t(1, 5), {"old/a.py": "# HACK reused name\n"}, author=BOB)
    names = ["new/a.py", "keep.py", "old/a.py"]
    result = blame_mod.blame_files(repo.path, repo.head(), _wanted(repo, names))
    assert result.fallback_files == 0
    assert result.passes == (3 if mode == "batches" else 1)
    for name in names:
        assert [o.sha for o in result.origins[name]] == _git_blame_shas(repo.path, name), name


def _wanted(repo, names):
    return {name: (repo.git("rev-parse", f"HEAD:{name}"), len((repo.path / name).read_text().splitlines()))
            for name in names}


@pytest.mark.parametrize("mode", MODES)
def test_merges_that_both_sides_changed_renames_and_re_added_files_agree_with_git_blame(repo, monkeypatch, mode):
    """Merges are read as tree diffs and only files changed on every side get line diffs: a file both
    sides edited, a conflict resolved by hand, a file renamed on a branch while main edited it, a file
    deleted and added again, a merge that takes the branch's file whole, an octopus merge."""
    _mode(monkeypatch, mode)
    lines = "".join(f"line {j}\n" for j in range(10))
    repo.commit("base", t(1, 1), {"both.txt": lines, "moved.txt": lines, "gone.txt": lines, "whole.txt": lines,
                                  "conflict.txt": lines}, author=ADA)
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side edits", t(1, 2), {"both.txt": lines.replace("line 1\n", "line 1 side\n"),
                                        "whole.txt": lines + "side tail\n",
                                        "conflict.txt": lines.replace("line 5\n", "line 5 side\n")}, author=BOB)
    (repo.path / "dir").mkdir()
    repo.git("mv", "moved.txt", "dir/moved.txt")
    repo.git("commit", "-q", "-m", "move", when=t(1, 3), author=BOB)
    repo.git("checkout", "-q", "main")
    repo.commit("main edits", t(1, 4), {"both.txt": lines.replace("line 8\n", "line 8 main\n"),
                                        "moved.txt": lines.replace("line 2\n", "line 2 main\n"),
                                        "conflict.txt": lines.replace("line 5\n", "line 5 main\n")}, author=CAT)
    merge = subprocess.run(["git", "-C", str(repo.path), "merge", "-q", "--no-ff", "--no-commit", "side"],
                           capture_output=True, text=True)
    assert merge.returncode != 0  # conflict.txt conflicts
    (repo.path / "conflict.txt").write_text(lines.replace("line 5\n", "line 5 resolved\n"))
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "merge side", when=t(1, 5), author=ADA)
    repo.git("rm", "-q", "gone.txt")
    repo.git("commit", "-q", "-m", "delete", when=t(1, 6), author=BOB)
    repo.commit("re-add", t(1, 7), {"gone.txt": lines.replace("line 0\n", "line 0 again\n")}, author=CAT)
    for n in range(2):
        repo.git("checkout", "-q", "-b", f"o{n}", "main")
        repo.commit(f"octo {n}", t(2, 1 + n), {f"o{n}.txt": lines, "both.txt": (repo.path / "both.txt").read_text()
                                               .replace(f"line {3 + 4 * n}\n", f"line {3 + 4 * n} octo\n")}, author=BOB)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "octopus", "o0", "o1", when=t(2, 5), author=CAT)
    names = ["both.txt", "dir/moved.txt", "gone.txt", "whole.txt", "conflict.txt", "o0.txt", "o1.txt"]
    result = blame_mod.blame_files(repo.path, repo.head(), _wanted(repo, names))
    assert result.fallback_files == 0
    for name in names:
        assert [o.sha for o in result.origins[name]] == _git_blame_shas(repo.path, name), name


def test_a_clone_missing_blobs_of_other_files_is_still_scanned_and_blamed(repo, monkeypatch):
    """A partial clone lacks some blobs (large files it never fetched): the unfiltered pass cannot diff
    them, so the marker files are read by pathspec instead; a file at HEAD whose blob is missing is
    counted, not a crash."""
    _mode(monkeypatch, "unfiltered")
    repo.commit("base", t(1, 1), {"data.bin.txt": "v1\n", "gone.txt": "x\n", "app.py": "# TODO: one\n"}, author=ADA)
    old = repo.git("rev-parse", "HEAD:data.bin.txt")
    repo.commit("edit", t(1, 2), {"data.bin.txt": "v2\n", "app.py": "# TODO: one\n# FIXME: two\n"}, author=BOB)
    for blob in (old, repo.git("rev-parse", "HEAD:gone.txt")):
        (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    result = scan_repo(repo.path)
    found = {(m.path, m.line): m.author for m in result.markers}
    assert found == {("app.py", 1): "Ada Lovelace", ("app.py", 2): "Bob Byte"}
    assert result.blame_fallback_files == 0 and result.files == 3


def test_a_clone_missing_a_blob_rename_detection_needs_still_follows_exact_moves(repo):
    """Renames are found with `git log -M` (the listing) and `git diff-tree -M` (the rounds), which read the
    blobs of added and deleted files to pair them. In a clone lacking one of those blobs both failed, and a
    marker in a file moved unchanged was blamed on the move. Exact moves need no blob: they are asked for
    again with -M100%, and the marker keeps its author."""
    repo.commit("base", t(1, 1), {"old.txt": "alpha\nbeta\n", "lib/engine.py": "# TODO: tune\nspeed = 1\n"},
                author=ADA)
    lost = repo.git("rev-parse", "HEAD:old.txt")
    repo.git("rm", "-q", "old.txt")
    (repo.path / "new.txt").write_text("gamma\n")
    (repo.path / "core").mkdir()
    repo.git("mv", "lib/engine.py", "core/engine.py")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Move and replace", when=t(2, 1), author=BOB)
    (repo.path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    assert blame_mod.renames(repo.path, repo.head()) == {"core/engine.py": {"lib/engine.py"}}
    assert blame_mod.renamed_from(repo.path, {"core/engine.py": {repo.head()}}) == {
        "core/engine.py": {"lib/engine.py"}}
    result = scan_repo(repo.path)
    assert {(m.path, m.line): (m.author, m.time) for m in result.markers} == {
        ("core/engine.py", 1): ("Ada Lovelace", t(1, 1))}
    assert result.blame_fallback_files == 0 and result.blame_passes == 1


@pytest.mark.parametrize("mode", ["pathspec", "batches"])
def test_a_file_split_in_two_keeps_its_authors_in_both_as_git_blame_does(repo, monkeypatch, mode):
    """One commit moves a file and adds a near copy of it (alertmanager's acceptance tests, split into v1
    and v2). Rename detection over the whole commit pairs the old file with one of them only; git blame
    looks for each file's own source, so both keep the old lines' authors. The blame must agree."""
    _mode(monkeypatch, mode)
    body = "# TODO: one\nx = 1\ny = 2\nz = 3\n"
    repo.commit("base", t(1, 1), {"tests/send.py": body, "app.py": "# FIXME\n"}, author=ADA)
    (repo.path / "v1").mkdir()
    repo.git("mv", "tests/send.py", "v1/send.py")
    (repo.path / "v2").mkdir()
    (repo.path / "v2" / "send.py").write_text(body + "w = 4\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Split the tests", when=t(2, 1), author=BOB)
    names = ["v1/send.py", "v2/send.py", "app.py"]
    result = blame_mod.blame_files(repo.path, repo.head(), _wanted(repo, names))
    assert result.fallback_files == 0
    for name in names:
        assert [o.sha for o in result.origins[name]] == _git_blame_shas(repo.path, name), name
    found = {(m.path, m.line): m.author for m in scan_repo(repo.path).markers}
    assert found[("v2/send.py", 1)] == "Ada Lovelace"
