"""What makes a commit a bug fix and a file a test: the rules of `fireline testing` and the bug budget.

Message rules (conventional commits, keywords as whole words, reverts, incident ids), chores that
are never fixes (chores.py), and language-aware test path patterns; `[testing]` sets them
(`params_of`). Python over rows, because word boundaries in regular expressions differ between SQL
engines and the rules must behave the same everywhere. Definitions: docs/testing.md.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..config import TestingConfig
from .chores import DEFAULT_IGNORE_SUBJECTS, ChoreRules
from .paths import NOT_SERVICE_CODE

DEFAULT_FIX_KEYWORDS: tuple[str, ...] = (
    "fix", "fixes", "fixed", "bug", "bugfix", "hotfix", "regression", "patch",
)

# (language, patterns). A pattern ending in "/" is a folder anywhere in the path ("tests/"
# matches "tests/a.py" and "export/tests/a.py"); a pattern without "/" is matched against the
# file name only (so "test_*.py" cannot match the folder "test_data/x.py"); any other pattern is
# matched against the whole path or a tail of it. Matching is case-sensitive, as the tools are.
DEFAULT_TEST_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("python", ("test_*.py", "*_test.py", "conftest.py", "tests/")),
    ("javascript/typescript", ("*.test.[jt]s", "*.test.[jt]sx", "*.spec.[jt]s", "*.spec.[jt]sx",
                               "*.test.mjs", "*.spec.mjs", "__tests__/", "test/")),
    ("go", ("*_test.go",)),
    ("java/kotlin", ("src/test/", "*Test.java", "*Tests.java", "*Test.kt", "*Tests.kt")),
    ("c/c++", ("*_test.cc", "*_test.cpp", "*_unittest.cc", "*_unittest.cpp", "tests/", "test/")),
    ("ruby", ("*_spec.rb", "*_test.rb", "spec/")),
    ("rust", ("tests/",)),
    # Infrastructure code has tests too: Terraform's native tests and Ansible's Molecule scenarios.
    ("terraform", ("*.tftest.hcl",)),
    ("ansible", ("molecule/",)),
)


@dataclass(frozen=True)
class TestingParams:
    """What counts as a fix and as a test. Defaults follow docs/testing.md; `[testing]` sets them."""

    __test__ = False  # not a pytest test class, whatever its name says

    fix_keywords: tuple[str, ...] = DEFAULT_FIX_KEYWORDS
    test_patterns: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_TEST_PATTERNS
    # Fixes of merges would count each fix twice (once on its branch, once in the merge).
    include_merges: bool = False
    # Chores whatever their words say (dependency bumps): regexes on the subject, and authors.
    ignore_subjects: tuple[str, ...] = DEFAULT_IGNORE_SUBJECTS
    ignore_authors: tuple[str, ...] = ()
    # A fix whose files all match these globs (documentation, CI, manifests) is a chore: no test can cover it.
    ignore_paths: tuple[str, ...] = NOT_SERVICE_CODE


def params_of(conf: TestingConfig) -> TestingParams:
    """The params of a validated `[testing]` section: unset keys keep the defaults."""
    base = TestingParams()
    return TestingParams(
        fix_keywords=tuple(conf.fix_keywords) if conf.fix_keywords is not None else base.fix_keywords,
        test_patterns=(tuple((lang, tuple(p)) for lang, p in conf.test_patterns.items())
                       if conf.test_patterns is not None else base.test_patterns),
        include_merges=conf.include_merges,
        ignore_subjects=tuple(conf.ignore_subjects) if conf.ignore_subjects is not None else base.ignore_subjects,
        ignore_authors=tuple(conf.ignore_authors),
        ignore_paths=tuple(conf.ignore_paths) if conf.ignore_paths is not None else base.ignore_paths,
    )


# ---- classifying one commit -------------------------------------------------------------------

_CONVENTIONAL = re.compile(r"^\s*(fix|hotfix|bugfix)(\([^)]*\))?!?:", re.IGNORECASE)
_REVERT_SUBJECT = re.compile(r"^\s*revert\b", re.IGNORECASE)
_REVERTS_COMMIT = re.compile(r"This reverts commit ([0-9a-f]{7,40})", re.IGNORECASE)
_CHERRY_PICK = re.compile(r"\(cherry picked from commit ([0-9a-f]{7,40})\)")
# Incident ids made only of these characters are found by looking words up in a set: one pass
# over the message whatever the number of incidents.
_ID_TOKEN = re.compile(r"[\w][\w-]*[\w]|[\w]")


def _keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({k.strip().lower() for k in keywords if k.strip()}, key=len, reverse=True)
    if not words:
        return None
    # Whole words only: "prefix" and "fixture" are not fixes, "fix-up" and "(fix)" are.
    return re.compile(r"(?<![\w])(" + "|".join(re.escape(w) for w in words) + r")(?![\w])", re.IGNORECASE)


@dataclass(frozen=True)
class IncidentIds:
    """Incident ids a commit message may mention, e.g. "Refs: INC-0042"."""

    simple: frozenset[str]  # case-folded ids made of word characters and hyphens
    other: re.Pattern[str] | None  # the rest, as one regular expression

    @classmethod
    def of(cls, ids: Iterable[str | None]) -> IncidentIds:
        simple, other = set(), []
        for raw in ids:
            ident = (raw or "").strip()
            # Bare numbers ("42") and very short ids would match ordinary text ("2 hosts"):
            # only ids with a letter and a digit, three characters or more, are looked for.
            if len(ident) < 3 or not re.search(r"[A-Za-z]", ident) or not re.search(r"\d", ident):
                continue
            if _ID_TOKEN.fullmatch(ident):
                simple.add(ident.casefold())
            else:
                other.append(ident)
        pattern = None
        if other:
            pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(i) for i in sorted(other, key=len, reverse=True))
                                 + r")(?![\w-])", re.IGNORECASE)
        return cls(frozenset(simple), pattern)

    def mentioned(self, message: str) -> list[str]:
        found = [tok for tok in _ID_TOKEN.findall(message) if tok.casefold() in self.simple]
        if self.other is not None:
            found += self.other.findall(message)
        return list(dict.fromkeys(found))  # first mention first, no repeats


@dataclass(frozen=True)
class Classifier:
    """The message rules, compiled once for a whole run."""

    keywords: re.Pattern[str] | None
    incidents: IncidentIds
    chores: ChoreRules = field(default_factory=lambda: ChoreRules((), frozenset()))

    @classmethod
    def of(cls, params: TestingParams, incident_ids: Iterable[str | None] = ()) -> Classifier:
        return cls(_keyword_pattern(params.fix_keywords), IncidentIds.of(incident_ids),
                   ChoreRules.of(params.ignore_subjects, params.ignore_authors))

    def chore(self, message: str, author: str | None = None) -> str | None:
        """Why this commit is a chore (a dependency bump, an ignored author) and never a fix, or None."""
        return self.chores.why(message, author)

    def reasons(self, message: str, author: str | None = None, *, chores: bool = True) -> list[str]:
        """Why this commit is a bug fix; empty when it is not one (or is a chore, unless `chores` is False)."""
        if chores and self.chore(message, author):
            return []
        subject, _, body = (message or "").partition("\n")
        reasons: list[str] = []
        reverted = _REVERTS_COMMIT.search(message or "")
        if _REVERT_SUBJECT.match(subject) or reverted:
            # Reverting a revert re-applies the original change: that is not a fix.
            if re.match(r'^\s*revert\s+"?\s*revert\b', subject, re.IGNORECASE):
                return []
            reasons.append(f"revert of {reverted.group(1)[:12]}" if reverted else "revert")
        conventional = _CONVENTIONAL.match(subject)
        if conventional:
            reasons.append(f"conventional commit {conventional.group(0).strip()}")
        elif self.keywords is not None:
            hit = self.keywords.search(subject)
            where = "subject"
            if hit is None:
                hit = self.keywords.search(body)
                where = "message"
            if hit is not None:
                reasons.append(f"keyword {hit.group(1).lower()!r} in the {where}")
        for ident in self.incidents.mentioned(message or ""):
            reasons.append(f"mentions incident {ident}")
        return reasons


def _matches(path: str, pattern: str) -> bool:
    if pattern.endswith("/"):
        return ("/" + pattern) in ("/" + path.rsplit("/", 1)[0] + "/") if "/" in path else False
    if "/" not in pattern:
        return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, "*/" + pattern)


# When several languages' patterns match (a folder such as tests/ is shared), the one whose
# sources have the file's extension names it: crate/tests/parse.rs is a Rust test.
_EXTENSIONS = {
    "python": (".py",), "javascript/typescript": (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs"),
    "go": (".go",), "java/kotlin": (".java", ".kt", ".kts"),
    "c/c++": (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp"), "ruby": (".rb",), "rust": (".rs",),
    "terraform": (".tf", ".hcl"), "ansible": (".yml", ".yaml"),
}


def test_pattern_of(path: str, params: TestingParams) -> tuple[str, str] | None:
    """(language, pattern) that makes `path` a test file, or None for a non-test file."""
    hits = [(language, pattern) for language, patterns in params.test_patterns
            for pattern in patterns if _matches(path, pattern)]
    if not hits:
        return None
    return next((h for h in hits if path.endswith(_EXTENSIONS.get(h[0], ()))), hits[0])


test_pattern_of.__test__ = False  # type: ignore[attr-defined]  # a helper, not something for pytest to run


def language_of_test_file(path: str, params: TestingParams) -> str | None:
    hit = test_pattern_of(path, params)
    return hit[0] if hit else None
