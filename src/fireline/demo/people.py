"""The demo organisation's people: who they are, which team they are in, and when."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from .dates import KOL, LON, NYC, PRIYA_MOVES, TYO, git_date


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    email: str
    team: str
    tz: str

    def ident(self, when: datetime) -> str:
        return f"{self.name} <{self.email}> {git_date(when, self.tz)}"


def _person(key: str, name: str, team: str, tz: str) -> Person:
    return Person(key, name, f"{name.lower().replace(' ', '.')}@example.com", team, tz)


PEOPLE = {p.key: p for p in (
    _person("hannah", "Hannah Clarke", "SRE", LON),
    _person("marcus", "Marcus Webb", "SRE", NYC),
    _person("arjun", "Arjun Mehta", "SRE", KOL),
    _person("priya", "Priya Raman", "UI", KOL),  # Data until PRIYA_MOVES
    _person("tom", "Tom Fletcher", "Data", LON),
    _person("sofia", "Sofia Alvarez", "Data", NYC),
    _person("kenji", "Kenji Watanabe", "UI", TYO),
    _person("emily", "Emily Chen", "UI", NYC),
    _person("oliver", "Oliver Bennett", "UI", LON),
    _person("yuki", "Yuki Tanaka", "C++", TYO),
    _person("daniel", "Daniel Novak", "C++", LON),
    _person("rachel", "Rachel Goldberg", "C++", NYC),
)}
P = PEOPLE
GITHUB = Person("github", "GitHub", "noreply@github.com", "", "UTC")


def team_on(person: Person, day: date) -> str:
    return "Data" if person.key == "priya" and day < PRIYA_MOVES else person.team


def members(team: str) -> Callable[[date], list[Person]]:
    return lambda day: [p for p in PEOPLE.values() if team_on(p, day) == team]
