"""Team UI's web-ui: PRs with true merges and squashes, lightweight release tags."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..dates import FIRST_WORK, KOL, LAST_WORK, LON, PRIYA_MOVES, TYO, WINDOW_END, WINDOW_START, wall_clock
from ..ordinary_work import Area, pull_requests, random_work
from ..people import GITHUB, P, Person, members
from ..workshop import Workshop
from .building_blocks import Deploy, file_pairs, initial_import, scripted


def _package_json(version: str) -> str:
    scripts = '{ "build": "vite build", "test": "vitest run" }'
    return (f'{{\n  "name": "web-ui",\n  "version": "{version}",\n  "private": true,\n'
            f'  "scripts": {scripts}\n}}\n')


def plan(shop: Workshop, deploys: list[Deploy]) -> None:
    comps = "Header Sidebar PricingGrid ExportPanel DatePicker Dashboard LoginForm Settings"
    areas = [
        Area(file_pairs("src/components/{}.tsx", "src/__tests__/{}.test.tsx", comps + " QuoteTicket"),
             ("header user menu|header search", "sidebar navigation|collapsible sidebar",
              "pricing grid filters|pricing grid sorting",
              "export panel progress|export retries",
              "date picker ranges|date picker keyboard support",
              "dashboard layout|dashboard widgets",
              "login form validation|SSO login button", "settings page|dark mode",
              "quote ticket|quote ticket shortcuts"), 3),
        Area(file_pairs("src/{}.ts", "src/__tests__/{}.test.ts",
                    "hooks/usePrices hooks/useExports api/client utils/format utils/dates"),
             ("price streaming hook|price subscription cleanup",
              "exports polling|export status hook",
              "API client retries|API auth headers", "price formatting|number formatting",
              "date helpers|relative time labels"), 2),
        Area(file_pairs("src/{}.ts", None, "styles/theme config/flags"),
             ("theme tokens|colour contrast", "feature flags|flag defaults"), 1),
    ]
    initial_import(shop, P["oliver"], areas, {"package.json": _package_json("2026.1.5")})
    team = members("UI")
    pull_requests(shop, 165, areas, team, FIRST_WORK, WINDOW_END, 0.62, GITHUB)
    random_work(shop, 130, areas, team, FIRST_WORK, LAST_WORK)
    released: dict[str, int] = {"tip": -1}  # a mark; -1 = nothing released yet
    names: set[str] = set()

    def release(captain: Person, when: datetime) -> None:
        def act() -> None:
            if shop.git.tips.get("main", -1) == released["tip"]:
                return  # nothing new to ship (or nothing at all yet)
            local = when.astimezone(ZoneInfo(LON)).date()
            name = f"release-{local:%Y.%m.%d}"
            version = f"{local.year}.{local.month}.{local.day}"
            if name in names:
                name, version = name + ".1", version + "-1"
            msg = f"chore(release): {version}\n"
            bump = {"package.json": _package_json(version)}
            tip = shop.git.commit("main", captain, when, msg, bump)
            shop.git.lightweight_tag(name, tip)
            released["tip"] = tip
            names.add(name)
        shop.at(when, act)

    day = WINDOW_START.date()
    while day < LAST_WORK:
        if day.weekday() < 5 and shop.rng.random() < 0.6:
            rota = [(P["oliver"], 14), (P["emily"], 10), (P["kenji"], 17)]
            if day >= PRIYA_MOVES:
                rota.append((P["priya"], 18))  # she joins the release rota across zones
            captain, hour = rota[day.isocalendar().week % len(rota)]
            release(captain, wall_clock(day, hour, shop.rng.randrange(60), captain.tz))
        day += timedelta(days=1)
    subject = "Add lazy-loaded chart bundle (#401)"
    merged = wall_clock(date(2026, 4, 7), 9, 10, LON)
    chart = {"src/charts/lazyBundle.ts": None, "src/__tests__/lazyBundle.test.ts": None}

    def lazy() -> None:
        files = {p: shop.new_file(p) for p in chart}
        shop.marks["lazy-charts"] = shop.git.commit(
            "main", P["kenji"], wall_clock(date(2026, 4, 6), 17, 40, TYO), subject + "\n", files,
            committer=GITHUB, committed=merged)
    shop.at(merged, lazy)
    release(P["oliver"], wall_clock(date(2026, 4, 7), 14, 30, LON))
    reverted = wall_clock(date(2026, 4, 7), 18, 5, LON)
    shop.at(reverted, lambda: shop.revert(P["oliver"], reverted, "lazy-charts", subject, chart))
    release(P["oliver"], wall_clock(date(2026, 4, 7), 18, 20, LON))
    scripted(shop, "datepicker-hotfix", P["oliver"], wall_clock(date(2026, 5, 6), 10, 40, LON),
              "hotfix: guard the date picker against a missing locale",
              ["src/components/DatePicker.tsx"])
    release(P["oliver"], wall_clock(date(2026, 5, 6), 11, 0, LON))
    scripted(shop, "error-wrapper", P["priya"], wall_clock(date(2026, 5, 26), 15, 0, KOL),
              "Refactor third-party error wrapper to stop noisy console errors",
              ["src/utils/errors.ts", "src/__tests__/errors.test.ts"])
