"""Which marker words stand in comments: `context.TODO()` in Go, or "TODO" in a string, is code.

Two ways, measured on prometheus (144 files with a marker word, 5.8 MB): Pygments' lexers know
comments in hundreds of languages but read about 0.7 MB/s (8 s there), so the common families
get a small scanner of their own (comments and string literals only, one regular expression, well
under a second there) and every other language Pygments knows goes through its lexer. Prose
(Markdown, reStructuredText, plain text) and unknown files have no comments to tell apart:
`None`, and the caller keeps every line. Only files that hold a marker word get here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# C family: // and /* */ comments; "..." '...' and `...` literals (JS templates with escapes; Go raw
# strings have none, a backslash before the closing backtick ends them).
_C_COMMON = r'//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
_C_LIKE = re.compile(_C_COMMON + r'|`(?:[^`\\]|\\[\s\S])*`')
_GO = re.compile(_C_COMMON + r'|`[^`]*`')
# Hash family: # comments (at a line start or after a space, so `url#frag` and `${#x}` stay code),
# triple-quoted and plain string literals.
_HASH = re.compile(r'(?:^|(?<=\s))#[^\n]*|"""[\s\S]*?(?:"""|\Z)|\'\'\'[\s\S]*?(?:\'\'\'|\Z)'
                   r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', re.MULTILINE)

_FAMILIES = {
    **dict.fromkeys((".go", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".java", ".js", ".jsx",
                     ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".cs", ".rs", ".kt", ".kts", ".swift",
                     ".scala", ".dart", ".proto", ".groovy", ".gradle"), "c"),
    **dict.fromkeys((".py", ".pyi", ".rb", ".sh", ".bash", ".zsh", ".yaml", ".yml", ".toml", ".pl", ".pm",
                     ".r", ".cmake", ".nix", ".tf", ".hcl"), "hash"),
}
_FAMILIES_BY_NAME = {"Makefile": "hash", "Dockerfile": "hash", "CMakeLists.txt": "hash", "BUILD": "hash",
                     "BUILD.bazel": "hash", "WORKSPACE": "hash", "Jenkinsfile": "c", "Rakefile": "hash"}
# Pygments lexers whose files are prose or plain data, where a marker is a marker wherever it is.
_PROSE = {"Markdown", "reStructuredText", "Text only", "TeX", "AsciiDoc", "Org Mode", "Groff", "BBCode",
          "MoinMoin/Trac Wiki markup", "Text output"}


def _family(path: str) -> str | None:
    name = path.rpartition("/")[2]
    if name in _FAMILIES_BY_NAME:
        return _FAMILIES_BY_NAME[name]
    dot = name.rfind(".")
    return _FAMILIES.get(name[dot:].lower()) if dot > 0 else None


@lru_cache(maxsize=512)
def _lexer_for(name: str) -> Any:
    """Pygments' lexer for a file name (cached per extension by the caller's key), or None."""
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_for_filename(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None
    return None if lexer.name in _PROSE else lexer


def _lexer_key(path: str) -> str:
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    return f"x{name[dot:]}" if dot > 0 else name  # same extension, same lexer


def _docstring(text: str, start: int) -> bool:
    """A Python triple-quoted string that is a statement of its own after a `def ...:`/`class ...:`
    or at the top of the file: documentation, where a TODO is a note like a comment."""
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip():
        return False
    # The nearest line above that is code, read backwards line by line: splitting everything above each
    # string made a file of many docstrings quadratic (mypy's checker.py: most of a cold ledger's reading).
    end = line_start - 1  # the newline that ends the line above (-1: none)
    while end >= 0:
        begin = text.rfind("\n", 0, end) + 1
        line = text[begin:end].strip()
        if line and not line.startswith("#"):
            return line.endswith(":")
        end = begin - 1
    return True


def _spans(path: str, text: str) -> list[tuple[int, str]] | None:
    """(offset, text) of every comment in `text`, or None when comments cannot be told apart."""
    family = _family(path)
    if family is not None:
        python = path.endswith((".py", ".pyi"))
        out = []
        scanner = _HASH if family == "hash" else _GO if path.endswith(".go") else _C_LIKE
        for m in scanner.finditer(text):
            token = m.group(0)
            if token.startswith(("//", "/*", "#")) or (python and token.startswith(('"""', "'''"))
                                                      and _docstring(text, m.start())):
                out.append((m.start(), token))
        return out
    lexer = _lexer_for(_lexer_key(path))
    if lexer is None:
        return None
    from pygments.token import Comment, String

    return [(i, v) for i, tt, v in lexer.get_tokens_unprocessed(text)
            if (tt in Comment and tt not in Comment.Preproc and tt is not Comment.PreprocFile) or tt in String.Doc]


def comment_markers(path: str, text: str, pattern: re.Pattern[str]) -> dict[int, str] | None:
    """{line number: marker word} for the marker words inside comments (the first one of a line), or
    None when the file is prose or of an unknown language (every line's marker counts then)."""
    spans = _spans(path, text)
    if spans is None:
        return None
    found: dict[int, str] = {}
    line, pos = 1, 0  # spans and their matches come in text order: count the newlines since the last one
    for offset, token in spans:
        for m in pattern.finditer(token):
            at = offset + m.start()
            line += text.count("\n", pos, at)
            pos = at
            found.setdefault(line, m.group(1))
    return dict(sorted(found.items()))
