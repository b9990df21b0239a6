"""While `fireline serve` holds a DuckDB store, every command on that store runs through it, with the
same output and exit code as without a server; a server killed mid-command leaves nothing half-written."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fireline.cli import main_with
from fireline.server import address as addresses
from fireline.server.remote import command_of

from .gitrepo import GitRepo
from .serving import ENV, Server, fireline
from .test_golden import COMMANDS, GOLDEN, _run

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
AT = ["--at", "2026-04-01"]


# ---- the demo's golden outputs, through a server ---------------------------------------------------------------

GOLDEN_THROUGH_SERVER = ["dora.json", "dora-data.txt", "dora-month.json", "explain-cfr.json", "explain-lead-cpp.txt",
                         "explain-ttr-purger.json", "actions.json", "actions-overdue.txt", "followup.json",
                         "alerts-report.json", "oncall-gaps.json", "debt-data.json", "knowledge.json",
                         "testing.json", "budget.json", "plan-data.json", "repeats.json"]


@pytest.fixture(scope="module")
def served_demo(demo_org, tmp_path_factory):
    folder = tmp_path_factory.mktemp("served-demo") / "demo"
    shutil.copytree(Path(demo_org.db).parent, folder)
    db = folder / Path(demo_org.db).name
    with Server(db, folder, "--config", str(folder / "world" / "fireline.toml")) as server:
        yield server, {"db": str(db), "world": str(folder / "world")}


@pytest.mark.parametrize("name", GOLDEN_THROUGH_SERVER)
def test_a_command_through_the_server_prints_what_it_prints_without_one(served_demo, name):
    server, paths = served_demo
    before = server.forwarded()
    assert _run(COMMANDS[name], paths) == (GOLDEN / name).read_text()
    assert server.forwarded() == before + 1  # it went through the server (the file is the server's anyway)


# ---- writes and reads on a small world, with and without a server ---------------------------------------------

def _world(root: Path) -> Path:
    repo = GitRepo.create(root / "shop")
    for n in range(8):
        repo.commit(f"change {n}", T0 + timedelta(hours=5 * n))
        if n % 3 == 2:
            repo.tag(f"v{n}", when=T0 + timedelta(hours=5 * n + 2))
    (root / "incidents.csv").write_text("id,service,started,resolved,severity,title\n"
                                        "INC-1,shop,2026-03-03T12:00Z,2026-03-03T15:00Z,high,checkout down\n")
    (root / "fireline.toml").write_text('[repos.shop]\npath = "shop"\ndeploy_tags = "v*"\n')
    # The server's own config names no repository: here the CLI does the ingesting (test_serve_sync.py
    # has the server keep repositories current).
    (root / "server.toml").write_text("[server]\n")
    return root


SEQUENCE = [
    ["ingest", "git", "shop", "--json"],
    ["ingest", "incidents", "incidents.csv", "--json"],
    ["ingest", "incidents", "missing.csv", "--json"],  # an error: same message, same exit code
    ["rebuild", "--json"],
    ["ingest", "git", "--json"],  # the configured repositories: nothing new
    ["dora", *AT, "--json"],
    ["dora", *AT],
    ["explain", "lead-time", *AT, "--json"],
    ["explain", "change-failure-rate", *AT, "--json"],
    ["actions", *AT, "--json"],
    ["events", "failed", "--json"],
    ["report", *AT, "--out", "out/report.html"],
]


def _main(args: list[str]) -> tuple[str, str, int]:
    """`fireline ARGS` in this process, as its entry point runs it (errors printed, exit codes kept)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main_with(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return out.getvalue(), err.getvalue(), code


def _outputs(world: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    monkeypatch.chdir(world)
    for name, value in ENV.items():
        if name in ("COLUMNS", "NO_COLOR", "TZ"):
            monkeypatch.setenv(name, value)
    runs = []
    for args in SEQUENCE:
        out, err, code = _main(args)
        # Progress lines say how long a step took, and whether files had to be read or blamed: the server
        # scans markers ahead after an ingest, so a served report may find that work already kept.
        err = re.sub(r"done in [0-9.]+ s", "done in <s>", err.replace(str(world), "<world>"))
        err = re.sub(r"(?m)^(reading|blaming) files.*\n", "", err)
        runs.append((out.replace(str(world), "<world>"), err, code))
    html = (world / "out" / "report.html").read_text().replace(str(world), "<world>")
    runs.append((re.sub(r"\s+", " ", html), "", 0))
    return runs


@pytest.fixture(scope="module")
def world_template(tmp_path_factory):
    return _world(tmp_path_factory.mktemp("template") / "world")


def test_writes_and_reads_through_the_server_match_the_direct_path(world_template, tmp_path, monkeypatch):
    direct, served = tmp_path / "a" / "world", tmp_path / "b" / "world"
    shutil.copytree(world_template, direct)
    shutil.copytree(world_template, served)
    expected = _outputs(direct, monkeypatch)
    with Server(served / ".fireline" / "fireline.duckdb", served, "--config", str(served / "server.toml")) as server:
        got = _outputs(served, monkeypatch)
        assert server.forwarded() == len(SEQUENCE)
    for args, want, have in zip([*SEQUENCE, ["(report file)"]], expected, got, strict=True):
        assert have == want, args
    assert json.loads(got[0][0])["new_changes"] == 8 and got[2][2] == 2


def test_commands_not_on_the_allow_list_are_refused(world_template, tmp_path):
    world = tmp_path / "world"
    shutil.copytree(world_template, world)
    db = world / ".fireline" / "fireline.duckdb"
    with Server(db, world) as server:
        token = addresses.live(str(db)).token  # type: ignore[union-attr]
        import httpx

        def post(argv: list[str], auth: str = f"Bearer {token}") -> httpx.Response:
            return httpx.post(f"{server.url}/cli", json={"argv": argv, "cwd": str(world), "config": None},
                              headers={"authorization": auth}, timeout=60)

        assert post(["serve"]).status_code == 403
        assert post(["demo", "--dir", str(world / "x")]).status_code == 403
        assert post(["dora", "--json"], auth="Bearer wrong").status_code == 401
        answer = post(["--db", "ignored.duckdb", "dora", "--json"]).json()
        assert answer["exit_code"] == 0 and "overall" in json.loads(answer["stdout"])
        gone = httpx.post(f"{server.url}/cli", json={"argv": ["dora"], "cwd": str(world / "gone"), "config": None},
                          headers={"authorization": f"Bearer {token}"}, timeout=60).json()
        assert gone["exit_code"] == 2 and "cannot work in this folder" in gone["stderr"]
        assert server.health()["status"] == "ok"


def test_command_of_reads_past_the_root_options():
    assert command_of(["--db", "x", "--config=y", "ingest", "git", "."]) == "ingest git"
    assert command_of(["dora", "--json"]) == "dora"
    assert command_of(["--version"]) is None and command_of(["ingest"]) is None


# ---- a server that stops -----------------------------------------------------------------------------------------

def _big_repo(path: Path, commits: int) -> None:
    """A long linear history in one `git fast-import` (seconds, where `git commit` would take minutes)."""
    GitRepo.create(path)
    lines = []
    start = int(T0.timestamp())
    for n in range(commits):
        when = start + 600 * n
        message = f"change {n}"
        content = f"{n}\n"
        lines += ["commit refs/heads/main", f"mark :{n + 1}",
                  f"author Ada <ada@example.com> {when} +0000", f"committer Ada <ada@example.com> {when} +0000",
                  f"data {len(message)}", message]
        if n:
            lines.append(f"from :{n}")
        lines += [f"M 644 inline f{n % 50}.txt", f"data {len(content)}", content.rstrip("\n"), ""]
        if n % 500 == 499:
            lines += [f"tag v{n}", f"from :{n + 1}", f"tagger Ada <ada@example.com> {when + 60} +0000",
                      f"data {len(message)}", message]
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input="\n".join(lines) + "\n", text=True,
                   check=True)
    subprocess.run(["git", "-C", str(path), "reset", "-q", "--hard", "main"], check=True)


def _children(pid: int) -> dict[int, str]:
    """The command lines of a process's children by pid (read from /proc: quicker than `ps` in a tight loop)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return found


def _git_log_of(pid: int) -> int | None:
    return next((child for child, c in _children(pid).items() if "git" in c and " log" in c), None)


def test_a_server_killed_mid_ingest_is_reported_and_nothing_is_half_written(tmp_path):
    world = tmp_path / "world"
    _big_repo(world / "big", 20_000)
    db = world / ".fireline" / "fireline.duckdb"
    server = Server(db, world)
    assert server.health()["status"] == "ok"
    git: int | None = None
    try:
        cli = subprocess.Popen([sys.executable, "-m", "fireline.cli", "ingest", "git", "big", "--deploy-tags", "v*",
                                "--json"], cwd=world, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "NO_COLOR": "1"})
        # The ingest is under way once the server reads the history with `git log`; that git is
        # paused, so the ingest is surely still under way (holding the store) when the server dies.
        # (Regression: a fast ingest finished between seeing git and the kill, and the test raced.)
        deadline = time.monotonic() + 120
        while (git := _git_log_of(server.proc.pid)) is None:
            assert cli.poll() is None, cli.communicate()
            assert time.monotonic() < deadline, "the ingest never started"
            time.sleep(0.01)
        os.kill(git, signal.SIGSTOP)
        # A probe is answered while the ingest holds the store (with the queue as last seen).
        health = server.health()
        assert health["status"] == "ok" and health.get("writing") is True, health
    finally:
        server.stop(signal.SIGKILL)
        if git is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(git, signal.SIGKILL)
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 3, (out, err)
    assert "stopped before the command finished" in err and "run the command again" in err and out == ""
    assert "Traceback" not in err

    # The address is stale now: the next command ignores it, removes it, and opens the store itself.
    assert server.address.exists()
    counts = fireline("dora", "--json", "--since", "2026-03-01", "--until", "2027-01-01", cwd=world)
    assert counts.returncode == 0, counts.stderr
    assert not server.address.exists()
    assert json.loads(counts.stdout)["overall"]["deployment_frequency"]["count"] == 0  # nothing of the pass

    again = fireline("ingest", "git", "big", "--deploy-tags", "v*", "--json", cwd=world)
    assert again.returncode == 0 and json.loads(again.stdout)["new_changes"] == 20_000
    clean = world / "clean.duckdb"
    assert fireline("ingest", "git", "big", "--deploy-tags", "v*", "--db", str(clean), cwd=world).returncode == 0
    window = ["--since", "2026-03-01", "--until", "2027-01-01", "--json"]
    served_store, clean_store = (fireline("dora", *window, *db, cwd=world).stdout for db in ([], ["--db", str(clean)]))
    assert served_store == clean_store


def test_sigterm_removes_the_address_and_frees_the_store(world_template, tmp_path):
    world = tmp_path / "world"
    shutil.copytree(world_template, world)
    db = world / ".fireline" / "fireline.duckdb"
    server = Server(db, world, "--config", str(world / "server.toml"))
    assert addresses.address_fields(server.address) == {"url", "pid", "store", "started", "token"}
    assert json.loads(server.address.read_text())["store"] == str(db)
    assert oct(server.address.stat().st_mode & 0o777) == "0o600"
    assert fireline("ingest", "git", "shop", cwd=world).returncode == 0
    server.stop(signal.SIGTERM)
    assert not server.address.exists()
    direct = fireline("dora", *AT, "--json", cwd=world)
    assert direct.returncode == 0 and json.loads(direct.stdout)["overall"]["deployment_frequency"]["count"] == 2


def test_a_stale_address_is_ignored_and_removed(world_template, tmp_path):
    world = tmp_path / "world"
    shutil.copytree(world_template, world)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    db = world / ".fireline" / "fireline.duckdb"
    addresses.write(db.parent / "serve.json", addresses.Address(url="http://127.0.0.1:9", pid=gone.pid,
                                                                store=str(db), started="2026-01-01T00:00:00+00:00",
                                                                token="x"))
    run = fireline("ingest", "git", "shop", "--json", cwd=world)
    assert run.returncode == 0, run.stderr
    assert not (db.parent / "serve.json").exists()


def test_postgresql_stores_have_no_address():
    assert addresses.file_for("postgresql://u@localhost/db") is None
    assert addresses.file_for("/x/y/s.duckdb") == Path("/x/y/serve.json")


def test_a_second_served_store_in_the_same_folder_is_refused(world_template, tmp_path):
    world = tmp_path / "world"
    shutil.copytree(world_template, world)
    with Server(world / "a.duckdb", world, "--config", str(world / "server.toml")):
        run = fireline("serve", "--port", "9", "--db", str(world / "b.duckdb"), "--config", str(world / "server.toml"),
                       cwd=world)
        assert run.returncode == 2 and "give each served DuckDB store a folder of its own" in run.stderr
