"""The marker scan with blame vs the core ingestion of the same repository.

    python bench/debt.py [--commits 100000] [--markers-every 0]
    python bench/debt.py --repo PATH   # a real repository: the cold scan (real words) vs its ingestion

Uses the repository bench/run.py generates (cached under bench/out/repos). The generated
files hold no TODO/FIXME/HACK/XXX, so two scans are measured:

- `scan`: the real marker words: ls-tree + cat-file + regex over every file at HEAD, no blame;
- `blame-all`: a marker word every generated line contains a word of (`--word`, default
  "purge", in about every file), so every file goes through the batched blame: the worst case;

and, for a sample of files, `git blame` one process per file, to show why the scan batches.
Then the scans kept in the store (debt/scan_cache.py), on a clone, with the dense words:
`kept-cold` (first scan, written to the store), `kept-warm` (HEAD unchanged: what a second
`fireline debt` costs) and `kept-commit` (one new commit changing one file).
Each measured task runs in a fresh child process (bench/child.py style) so its peak memory
(VmHWM) is its own; ratios are against `ingest_git` of the same repository in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import genrepo  # noqa: E402
from child import peak_mib  # noqa: E402


def task(name: str, repo: str, word: str, db: str) -> dict:
    """Run in a child: one measured step, its time and this process's peak memory."""
    import pyarrow as pa

    pa.array([0])  # pyarrow's lazy pandas import, outside the timing (see child.py)
    base = peak_mib()
    t = time.perf_counter()
    out: dict = {}
    if name == "ingest":
        from fireline.config import Config
        from fireline.ingest import ingest_git
        from fireline.store import Store

        store = Store.open(db)
        out["commits"] = ingest_git(store, Config(), repo, service="bench", deploy_tags="v*").new_changes
        store.close()
    elif name.startswith("kept-"):
        from fireline.debt.report import ScanCache
        from fireline.store import Store

        store = Store.open(db)
        result = ScanCache().scan(Path(repo), repo="bench", words=[word], max_bytes=1_000_000, store=store)
        store.close()
        out.update(markers=len(result.markers), files=result.files, blamed_files=result.blamed_files,
                   reused_files=result.reused_files)
    else:
        from fireline.debt.markers import DEFAULT_WORDS, scan_repo

        words = DEFAULT_WORDS if name == "scan" else (word,)
        result = scan_repo(repo, words=words)
        out.update(markers=len(result.markers), files=result.files, blamed_files=len({m.path for m in result.markers}),
                   passes=result.blame_passes, fallback=result.blame_fallback_files)
    out.update(seconds=time.perf_counter() - t, peak_mib=peak_mib(), baseline_peak_mib=base)
    return out


def child(name: str, repo: Path, word: str, db: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", name, str(repo), word, db], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def kept_scans(path: Path, word: str, tmp: Path) -> dict:
    """The store-kept scans on a clone (the cached repository is never committed to)."""
    clone = tmp / "clone"
    subprocess.run(["git", "clone", "-q", "--local", str(path), str(clone)], check=True)
    db = str(tmp / "kept.duckdb")
    out = {"kept_cold": child("kept-cold", clone, word, db), "kept_warm": child("kept-warm", clone, word, db)}
    first = subprocess.run(["git", "-C", str(clone), "ls-files"], capture_output=True, text=True,
                           check=True).stdout.split()[0]
    with (clone / first).open("a") as f:
        f.write(f"one more {word} line\n")
    subprocess.run(["git", "-C", str(clone), "-c", "user.name=Bench", "-c", "user.email=b@example.com", "commit",
                    "-q", "-am", "one change"], check=True)
    out["kept_commit"] = child("kept-commit", clone, word, db)
    return out


def per_file_blame(repo: Path, sample: int) -> float:
    paths = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "--name-only", "HEAD"], capture_output=True,
                           text=True, check=True).stdout.split()[:sample]
    t = time.perf_counter()
    for p in paths:
        subprocess.run(["git", "-C", str(repo), "blame", "--porcelain", "HEAD", "--", p], capture_output=True,
                       check=True)
    return (time.perf_counter() - t) / max(len(paths), 1)


def real_repo(path: Path) -> int:
    """Cold scan (real words, blame, nothing kept) vs the ingestion of the same repository, same run."""
    with tempfile.TemporaryDirectory() as tmp:
        ingest = child("ingest", path, "", str(Path(tmp) / "b.duckdb"))
    scan = child("scan", path, "", "")
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    out = {"repo": str(path), "ingest": ingest, "scan": scan, "ratio": scan["seconds"] / ingest["seconds"],
           "loadavg": load}
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "debt-repo.json").write_text(json.dumps(out, indent=2))
    print(f"| step | seconds | ratio to ingest | peak MiB |\n|---|--:|--:|--:|\n"
          f"| ingest_git ({ingest['commits']} commits) | {ingest['seconds']:.2f} | 1.00 | {ingest['peak_mib']:.0f} |\n"
          f"| cold marker scan + blame ({scan['markers']} markers in {scan['blamed_files']} files, "
          f"{scan['passes']} git log passes, {scan['fallback']} files by git blame) | {scan['seconds']:.2f} | "
          f"{out['ratio']:.2f} | {scan['peak_mib']:.0f} |\n(load average {' '.join(load)})")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(task(*sys.argv[2:6])))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--word", default="purge")
    ap.add_argument("--sample", type=int, default=20, help="files for the one-process-per-file git blame")
    ap.add_argument("--repo", type=Path, help="a real repository: ingestion vs the cold marker scan (nothing kept)")
    args = ap.parse_args()
    if args.repo is not None:
        return real_repo(args.repo.resolve())
    path, facts = genrepo.generate(HERE / "out" / "repos", args.commits, 42)
    with tempfile.TemporaryDirectory() as tmp:
        ingest = child("ingest", path, args.word, str(Path(tmp) / "b.duckdb"))
    scan = child("scan", path, args.word, "")
    dense = child("blame-all", path, args.word, "")
    per_file = per_file_blame(path, args.sample)
    with tempfile.TemporaryDirectory() as tmp:
        kept = kept_scans(path, args.word, Path(tmp))
    out = {"commits": args.commits, "files": facts.get("files"), "ingest": ingest, "scan": scan, "blame_all": dense,
           "git_blame_seconds_per_file": per_file,
           "git_blame_all_files_estimate_seconds": per_file * (dense["blamed_files"] or 0),
           "ratios": {"scan_time": scan["seconds"] / ingest["seconds"],
                      "blame_all_time": dense["seconds"] / ingest["seconds"],
                      "scan_peak": scan["peak_mib"] / ingest["peak_mib"],
                      "blame_all_peak": dense["peak_mib"] / ingest["peak_mib"],
                      **{f"{k}_time": v["seconds"] / ingest["seconds"] for k, v in kept.items()}}}
    out.update(kept)
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "debt.json").write_text(json.dumps(out, indent=2))
    r = out["ratios"]
    print(f"| step | seconds | ratio to ingest | peak MiB | ratio |\n|---|--:|--:|--:|--:|\n"
          f"| ingest_git ({ingest['commits']} commits) | {ingest['seconds']:.2f} | 1.00 | "
          f"{ingest['peak_mib']:.0f} | 1.00 |\n"
          f"| marker scan, real words ({scan['markers']} markers) | {scan['seconds']:.2f} | {r['scan_time']:.2f} | "
          f"{scan['peak_mib']:.0f} | {r['scan_peak']:.2f} |\n"
          f"| scan + batched blame, {dense['markers']} markers in {dense['blamed_files']} files "
          f"({dense['passes']} git log pass) | {dense['seconds']:.2f} | {r['blame_all_time']:.2f} | "
          f"{dense['peak_mib']:.0f} | {r['blame_all_peak']:.2f} |\n"
          f"| git blame, one process per file (estimate for the same files) | "
          f"{out['git_blame_all_files_estimate_seconds']:.0f} | "
          f"{out['git_blame_all_files_estimate_seconds'] / ingest['seconds']:.1f} | | |")
    for key, label in (("kept_cold", "kept in the store, first scan"), ("kept_warm", "kept, HEAD unchanged"),
                       ("kept_commit", "kept, one new commit changing one file")):
        k = kept[key]
        print(f"| {label} ({k['blamed_files']} files blamed, {k['reused_files']} reused) | {k['seconds']:.2f} | "
              f"{r[key + '_time']:.3f} | {k['peak_mib']:.0f} | {k['peak_mib'] / ingest['peak_mib']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
