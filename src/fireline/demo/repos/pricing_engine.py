"""Team C++'s pricing-engine: rare deploys, weeks of lead time, a release branch with a
cherry-pick."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from ..dates import FIRST_WORK, LAST_WORK, LON, NYC, TYO, wall_clock
from ..ordinary_work import Area, random_work
from ..people import P, members
from ..workshop import Workshop
from .building_blocks import Deploy, file_pairs, initial_import, scripted

FIX_LINES = {"src/calendar.cpp": ["double act365(int days) { return days / 365.0; }"],
             "tests/calendar_test.cpp": [
                 "TEST(Calendar, Act365) { EXPECT_DOUBLE_EQ(act365(365), 1.0); }"]}


def plan(shop: Workshop, deploys: list[Deploy]) -> None:
    areas = [
        Area((*file_pairs("src/{}.cpp", "tests/{}_test.cpp", "pricer curve instrument risk calendar"),
              *file_pairs("include/{}.h", None, "pricer curve calendar")),
             ("Black-Scholes greeks|option pricer|quote cache",
              "yield curve bootstrap|curve interpolation",
              "FX forward points|bond accrual|SABR calibration",
              "risk ladder|bucketed vega", "holiday calendars|business-day rolling",
              "pricer interface", "curve interface", "calendar interface"), 4),
        Area(file_pairs("{}", None, "src/main.cpp cmake/warnings.cmake docs/build.md"),
             ("quote server entry point", "compiler warnings", "build notes"), 1),
    ]
    cmake = ("cmake_minimum_required(VERSION 3.20)\n"
             "project(pricing_engine VERSION {} LANGUAGES CXX)\n")
    initial_import(shop, P["daniel"], areas, {"CMakeLists.txt": cmake.format("2026.1.0")})
    random_work(shop, 245, areas, members("C++"), FIRST_WORK, LAST_WORK)
    scripted(shop, "daycount", P["yuki"], wall_clock(date(2026, 2, 25), 14, 10, TYO),
              "Refactor day-count conventions into the calendar module",
              ["src/calendar.cpp", "include/calendar.h"])
    branch = "release/2026.03"
    cut = wall_clock(date(2026, 3, 16), 10, 0, NYC)

    def cut_release() -> None:
        shop.git.branch_off(branch, "main")
        shop.marks["release-cut"] = shop.git.commit(
            branch, P["rachel"], cut, "Bump version to 2026.3.0\n",
            {"CMakeLists.txt": cmake.format("2026.3.0")})
    shop.at(cut, cut_release)
    fix_msg = "Fix ACT/365 day-count rounding in accrual calculation\n"
    fixed = wall_clock(date(2026, 3, 23), 10, 15, LON)

    def appended(on: str) -> dict[str, str | None]:
        files = shop.git.files[on]
        return {p: files[p] + "\n".join(lines) + "\n" for p, lines in FIX_LINES.items()}

    def fix() -> None:
        shop.marks["act365-fix"] = shop.git.commit("main", P["daniel"], fixed, fix_msg,
                                                   appended("main"))
    shop.at(fixed, fix)
    picked = wall_clock(date(2026, 3, 25), 9, 30, NYC)

    def cherry_pick() -> None:
        # What `git cherry-pick -x` writes: the original author and time, a new committer.
        msg = f"{fix_msg}\n(cherry picked from commit {shop.git.sha(shop.marks['act365-fix'])})\n"
        shop.marks["act365-pick"] = shop.git.commit(branch, P["daniel"], fixed, msg,
                                                    appended(branch), committer=P["rachel"],
                                                    committed=picked)
    shop.at(picked, cherry_pick)

    def ship(day: date, ref: str = "main", kind: str = "", fail_first: bool = False) -> None:
        when = wall_clock(day, 10, 0, NYC)
        staged = wall_clock(day - timedelta(days=2 if kind == "" else 1), 16, 0, "UTC")
        shop.at(staged, lambda: deploys.append(Deploy(
            staged, "UTC", "pricing-engine", "pricing-engine", shop.git.tips[ref], "staging")))

        def record(at: datetime, status: str = "success") -> None:
            tip = shop.git.tips[ref]
            deploys.append(Deploy(at, NYC, "pricing-engine", "pricing-engine", tip,
                                  status=status, kind=kind if status == "success" else ""))
        if fail_first:  # the first attempt died half way; the team retried the next day
            failed = when - timedelta(days=1)
            shop.at(failed, lambda: record(failed, "failure"))
        shop.at(when, lambda: record(when))

    for day in (date(2026, 1, 14), date(2026, 2, 11), date(2026, 4, 22), date(2026, 6, 24)):
        ship(day)
    ship(date(2026, 3, 18), branch)
    ship(date(2026, 3, 26), branch, "hotfix")
    ship(date(2026, 5, 27), fail_first=True)
