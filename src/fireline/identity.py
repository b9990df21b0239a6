"""People: one identity per person across the names and addresses a history shows, bots told apart.

Every feature that names people (knowledge, testing, the bug budget, the debt ledger's owners,
on-call experts, postmortem owners) asks this module, so a person is one person everywhere.
git's own `.mailmap` is applied before anything reaches here (the single git pass reads `%aN`/`%aE`,
and blame applies it too); this module merges what is left:

- `[people]` entries: their name, `email`/`emails`, and `aliases` (other names, GitHub logins or emails);
- the same full name (two words or more) under several addresses;
- GitHub noreply addresses (`12345+login@users.noreply.github.com`, `login@users.noreply.github.com`)
  with each other, and with a commit signed with that login as its name;
- the same address (ignoring case).

Bots: `[bot]` suffixes, names ending in " Bot"/"-bot" (or CamelCase "...Bot"), logins and
addresses ending in "-bot", the well-known automation accounts, and `[people] bots`.
Standard library only: the metrics layer imports it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[^@+]+)@users\.noreply\.github\.com$", re.IGNORECASE)
# Automation accounts that sign commits under plain names ("renovate", "dependabot-preview").
KNOWN_BOTS = frozenset({
    "dependabot", "dependabot-preview", "renovate", "renovate-bot", "github-actions", "greenkeeper",
    "greenkeeper-bot", "pre-commit-ci", "mergify", "snyk-bot", "imgbot", "allcontributors", "copilot-swe-agent",
})
_CAMEL_BOT = re.compile(r"[a-z0-9]Bot$")


def _fold(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def login_of(email: str | None) -> str | None:
    """The GitHub login of a noreply address, lower-cased; None for any other address."""
    hit = _NOREPLY.match((email or "").strip())
    return hit.group("login").lower() if hit else None


def _bot_word(word: str) -> str | None:
    """Why a name, login or address's local part names a bot, or None."""
    folded = word.casefold()
    if folded.endswith("[bot]"):
        return "[bot] suffix"
    if folded.endswith(("-bot", "_bot", " bot")):
        return "name ends in bot"
    if _CAMEL_BOT.search(word):
        return "name ends in Bot"
    if folded in KNOWN_BOTS:
        return "known automation account"
    return None


def bot_reason(name: str | None, email: str | None, listed: Iterable[str] = ()) -> str | None:
    """Why an author is a bot (None for a person). `listed`: `[people] bots`, names or emails, folded."""
    name, email = (name or "").strip(), (email or "").strip()
    listed = set(listed)
    if _fold(name) in listed or email.lower() in listed:
        return "[people] bots"
    login = login_of(email)
    if login and login in listed:
        return "[people] bots"
    for word in (name, login or "", email.split("@", 1)[0] if "@" in email else ""):
        why = _bot_word(word) if word else None
        if why:
            return why
    return None


def _attr(person: Any, key: str) -> Any:
    return person.get(key) if isinstance(person, Mapping) else getattr(person, key, None)


@dataclass
class Identity:
    """One person (or bot) and every name and address merged into them."""

    key: str
    name: str
    names: list[str]
    emails: list[str]
    commits: int
    bot: str | None  # why it is a bot; None for a person
    configured: bool  # a `[people]` entry
    merged_by: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "names": self.names, "emails": self.emails,
                               "commits": self.commits}
        if self.bot:
            out["bot"] = self.bot
        else:
            out["merged_by"] = self.merged_by
        return out


class People:
    """The configured people and bot rules; `directory` merges the authors of one history."""

    def __init__(self, persons: Mapping[str, Any] | None = None, *, bots: Iterable[str] = (),
                 include_bots: bool = False) -> None:
        self.include_bots = include_bots
        self.bots = frozenset(b.strip().lower() if "@" in b else _fold(b) for b in bots if b.strip())
        self.persons: dict[str, str] = {}  # folded name, alias, login or email -> configured name
        for name, person in (persons or {}).items():
            for email in [_attr(person, "email"), *(_attr(person, "emails") or [])]:
                if email:
                    self.persons[email.strip().lower()] = name
            for alias in _attr(person, "aliases") or []:
                self.persons.setdefault(alias.strip().lower() if "@" in alias else _fold(alias), name)
            # A commit signed with the configured name but an unlisted address is the same person.
            self.persons.setdefault(_fold(name), name)

    @classmethod
    def from_config(cls, config: Any) -> People:
        options = getattr(config, "people_options", None)
        return cls(config.people, bots=getattr(options, "bots", ()) or (),
                   include_bots=bool(getattr(options, "include_bots", False)))

    def bot_reason(self, name: str | None, email: str | None) -> str | None:
        return bot_reason(name, email, self.bots)

    def left_out(self, name: str | None, email: str | None) -> bool:
        """Whether an author's commits are left out of people's figures: a bot, unless include_bots."""
        return not self.include_bots and self.bot_reason(name, email) is not None

    def configured(self, who: str | None) -> str | None:
        """The `[people]` entry a name, alias, login or email names (any case), or None."""
        text = (who or "").strip()
        if not text:
            return None
        return self.persons.get(text.lower() if "@" in text else _fold(text)) or \
            self.persons.get(login_of(text) or "\0")

    def directory(self, authors: Iterable[tuple[str | None, str | None]]) -> Directory:
        """Merge the (name, email) of every commit of a history (repeats count as commits)."""
        return Directory(self, Counter(((name or "").strip(), (email or "").strip().lower())
                                       for name, email in authors))


class Directory:
    """The identities of one set of authors: `key(name, email)` -> the identity they belong to."""

    def __init__(self, people: People, counts: Mapping[tuple[str, str], int]) -> None:
        self.people = people
        nodes = sorted(counts)
        parent = list(range(len(nodes)))
        how: dict[int, set[str]] = {}

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        logins = {login_of(e) for _, e in nodes} - {None}
        logins |= {k for k in people.persons if "@" not in k and " " not in k}
        first: dict[str, int] = {}
        for i, (name, email) in enumerate(nodes):
            links = []
            if email:
                links.append((f"e:{email}", "same email"))
            folded = _fold(name)
            if " " in folded:
                links.append((f"n:{folded}", "same full name"))
            login = login_of(email)
            if login:
                links.append((f"l:{login}", "GitHub login"))
            if folded and " " not in folded and folded in logins:
                links.append((f"l:{folded}", "GitHub login"))
            person = people.configured(email) or people.configured(name) or (login and people.configured(login))
            if person:
                links.append((f"p:{person}", "[people]"))
            for link, why in links:
                j = first.setdefault(link, i)
                a, b = root(i), root(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
                    how.setdefault(min(a, b), set()).update({why, *how.pop(max(a, b), set())})

        groups: dict[int, list[int]] = {}
        for i in range(len(nodes)):
            groups.setdefault(root(i), []).append(i)
        self._key: dict[tuple[str, str], str] = {}
        self.identities: dict[str, Identity] = {}
        for r, members in groups.items():
            pairs = [nodes[i] for i in members]
            identity = self._identity(pairs, counts, sorted(how.get(r, ())))
            self.identities[identity.key] = identity
            for pair in pairs:
                self._key[pair] = identity.key
        shown = Counter(i.name for i in self.identities.values())
        for identity in self.identities.values():
            if shown[identity.name] > 1 and identity.emails:  # one name, addresses nothing merges: keep apart
                identity.name = f"{identity.name} <{identity.emails[0]}>"

    def _identity(self, pairs: list[tuple[str, str]], counts: Mapping[tuple[str, str], int],
                  merged_by: list[str]) -> Identity:
        people = self.people
        person = next((p for n, e in pairs for p in (people.configured(e), people.configured(n)) if p), None)
        by_name: Counter[str] = Counter()
        for pair in pairs:
            by_name[pair[0]] += counts[pair]
        names = sorted(n for n in by_name if n)
        emails = sorted({e for _, e in pairs if e})
        logins = {login_of(e) for e in emails}
        # The configured name wins; else the full name used most, before logins and single words.
        name = person or min(by_name, key=lambda n: (_fold(n) in logins, " " not in _fold(n), -by_name[n], n))
        bot = None if person else next((why for n, e in pairs if (why := people.bot_reason(n, e))), None)
        key = f"person:{person}" if person else f"id:{min(emails) if emails else name}"
        return Identity(key, name or (emails[0] if emails else "(unknown)"), names, emails,
                        sum(by_name.values()), bot, person is not None, merged_by)

    def key(self, name: str | None, email: str | None) -> str:
        pair = ((name or "").strip(), (email or "").strip().lower())
        return self._key.get(pair) or f"id:{pair[1] or pair[0]}"

    def of(self, name: str | None, email: str | None) -> Identity | None:
        return self.identities.get(self.key(name, email))

    def left_out(self, key: str) -> bool:
        identity = self.identities.get(key)
        return identity is not None and identity.bot is not None and not self.people.include_bots

    def merged(self) -> list[dict[str, Any]]:
        """People known under more than one name or address, most commits first."""
        return [i.as_dict() for i in sorted(self.identities.values(), key=lambda i: (-i.commits, i.name))
                if not i.bot and (len(i.names) > 1 or len(i.emails) > 1)]

    def bots(self) -> list[dict[str, Any]]:
        return [i.as_dict() for i in sorted(self.identities.values(), key=lambda i: (-i.commits, i.name)) if i.bot]
