"""One HTML page from sections: Jinja2 templates and inline CSS, nothing fetched from anywhere.

The Content-Security-Policy forbids every request the page itself could make (fonts, images,
scripts, styles from elsewhere), so "works offline" is enforced by the browser, not just hoped for.
Light and dark follow `prefers-color-scheme`; charts use `currentColor`, so they follow too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from jinja2 import DictLoader, Environment, select_autoescape

from ..charts import to_svg
from .model import Section

CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
       "form-action 'self'; base-uri 'none'")


@dataclass
class Option:
    value: str
    label: str
    selected: bool = False


@dataclass
class Filters:
    """The dashboard's filter form; the report shows the same scope as plain text."""

    teams: list[Option]
    services: list[Option]
    profiles: list[Option]
    since: str
    until: str
    timezone: str = "UTC"


@dataclass
class Page:
    title: str
    scope_text: str
    sections: list[Section]
    footer: str
    filters: Filters | None = None
    error: str | None = None
    back: str | None = None  # a link back to the overview (drill-down pages)
    nav: bool = True
    svgs: dict[str, str] = field(default_factory=dict)


CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#111827;--muted:#4b5563;--card:#f3f4f6;--border:#d1d5db;
--link:#1d4ed8;--bad-bg:#fee2e2;--bad-fg:#991b1b;--mid-bg:#fef3c7;--mid-fg:#854d0e;--good-bg:#dcfce7;
--good-fg:#166534;--elite-bg:#ccfbf1;--elite-fg:#115e59;--flag:#fff7ed;--done:#6b7280}
@media (prefers-color-scheme:dark){:root{--bg:#0f172a;--fg:#e5e7eb;--muted:#a1a9b8;--card:#1e293b;
--border:#3b4a61;--link:#93c5fd;--bad-bg:#4c0d0d;--bad-fg:#fecaca;--mid-bg:#422006;--mid-fg:#fde68a;
--good-bg:#052e16;--good-fg:#bbf7d0;--elite-bg:#042f2e;--elite-fg:#99f6e4;--flag:#2b1d0e;--done:#9ca3af}}
*{box-sizing:border-box}
html{font-size:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
sans-serif}
a{color:var(--link)}
a:focus-visible,summary:focus-visible,select:focus-visible,input:focus-visible,button:focus-visible,
.table-wrap:focus-visible{outline:3px solid var(--link);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem;z-index:2}
header,main,footer,nav.toc,form.filters,.error{max-width:78rem;margin:0 auto;padding:0 1rem}
header{padding-top:1.25rem}
h1{font-size:1.6rem;margin:.2rem 0}
h2{font-size:1.3rem;margin:0 0 .25rem;border-bottom:2px solid var(--border);padding-bottom:.25rem}
.scope,.lead,.note,.detail,footer{color:var(--muted)}
.scope{margin:.25rem 0 .75rem}
nav.toc ul{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1rem;padding:0;margin:.5rem 0 1rem}
form.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin-bottom:1rem}
form.filters label{display:flex;flex-direction:column;font-size:.875rem;font-weight:600}
form.filters select,form.filters input,form.filters button{font:inherit;padding:.35rem .5rem;
border:1px solid var(--border);border-radius:.35rem;background:var(--card);color:var(--fg);min-height:2.5rem}
form.filters button{background:var(--link);color:var(--bg);font-weight:600;cursor:pointer}
.hint{flex-basis:100%;margin:0;font-size:.8rem;color:var(--muted);order:9}
.error{background:var(--bad-bg);color:var(--bad-fg);padding:.75rem 1rem;border-radius:.5rem;margin-bottom:1rem}
section{margin:1.5rem 0 2rem}
.verdict{background:var(--bad-bg);color:var(--bad-fg);padding:.5rem .75rem;border-radius:.4rem}
dl.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.75rem;margin:1rem 0}
.figure{background:var(--card);border-radius:.5rem;padding:.75rem;border:1px solid var(--border)}
.figure dt{font-size:.875rem;font-weight:600}
.figure dd{margin:0}
.figure .big{font-size:1.6rem;font-weight:700}
.figure .big a{color:inherit;text-decoration-thickness:1px}
.figure .detail{font-size:.85rem}
.tier{display:inline-block;font-size:.75rem;font-weight:700;padding:.05rem .45rem;border-radius:999px;
vertical-align:middle;white-space:nowrap;border:1px solid currentColor}
.tier-elite{background:var(--elite-bg);color:var(--elite-fg)}
.tier-high{background:var(--good-bg);color:var(--good-fg)}
.tier-mid{background:var(--mid-bg);color:var(--mid-fg)}
.tier-low{background:var(--bad-bg);color:var(--bad-fg)}
.bad{color:var(--bad-fg);font-weight:700}
.badge-overdue{background:var(--bad-bg);color:var(--bad-fg);font-weight:700;padding:0 .35rem;border-radius:.3rem}
.table-wrap{overflow-x:auto;margin:.75rem 0;border:1px solid var(--border);border-radius:.5rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.5rem .75rem}
th,td{padding:.35rem .6rem;border-top:1px solid var(--border);text-align:left;vertical-align:top}
thead th{background:var(--card);white-space:nowrap}
td.brk{overflow-wrap:anywhere}td.nowrap{white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.team-row th,tr.all-row th,tr.all-row td{font-weight:700}
tr.all-row{border-top:2px solid var(--fg)}
tr.service-row th{font-weight:400;padding-left:1.5rem}
tr.overdue,tr.flagged{background:var(--flag)}
tr.done td,tr.done th{color:var(--done)}
figure.chart{margin:1rem 0;background:var(--card);border:1px solid var(--border);border-radius:.5rem;padding:.75rem}
figure.chart svg{display:block;width:100%;height:auto;color:var(--fg)}
figcaption{font-weight:600;margin-bottom:.25rem}
details{margin:.4rem 0}
summary{cursor:pointer;padding:.2rem 0}
details.drill>summary{font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,30rem),1fr));gap:0 1rem}
footer{padding:1rem;border-top:1px solid var(--border);font-size:.875rem}
@media (max-width:40rem){h1{font-size:1.3rem}.figure .big{font-size:1.3rem}th,td{padding:.3rem .4rem}}
@media print{details{display:block}nav.toc,form.filters{display:none}}
"""

TEMPLATES = {
    "macros.html": """
{%- macro cell(c) -%}
{%- if c is string -%}{{ c }}{%- else -%}
<span class="v{% if c.css %} {{ c.css }}{% endif %}"{% if c.value is not none %} data-value="{{ c.value }}"{% endif %}
{%- if c.metric %} data-metric="{{ c.metric }}"{% endif %}{% if c.title %} title="{{ c.title }}"{% endif %}>
{%- if c.href %}<a href="{{ c.href }}">{{ c.text }}</a>{% else %}{{ c.text }}{% endif %}</span>
{%- if c.tier %} <span class="tier tier-{{ c.tier|lower }}">{{ c.tier }}</span>{% endif %}
{%- endif -%}
{%- endmacro %}
{% macro table(t) -%}
<div class="table-wrap" role="region" aria-labelledby="{{ t.id }}-caption" tabindex="0">
<table id="{{ t.id }}"><caption id="{{ t.id }}-caption">{{ t.caption }}</caption>
<thead><tr>{% for c in t.columns %}<th scope="col"{% if loop.index0 in t.numeric %} class="num"{% endif %}>
{{- c }}</th>{% endfor %}</tr></thead>
<tbody>
{%- for row in t.rows %}
<tr{% if t.row_css and t.row_css[loop.index0] %} class="{{ t.row_css[loop.index0] }}"{% endif %}
{%- if t.row_keys and t.row_keys[loop.index0] %} data-key="{{ t.row_keys[loop.index0] }}"{% endif %}>
{%- for c in row %}{% if loop.first %}<th scope="row">{{ cell(c) }}</th>{% else %}<td
{%- if loop.index0 in t.numeric %} class="num"{% elif loop.index0 in t.breakable %} class="brk"
{%- elif loop.index0 in t.nowrap %} class="nowrap"{% endif %}>{{ cell(c) }}</td>{% endif %}{% endfor %}</tr>
{%- endfor %}
{%- if not t.rows %}<tr><td colspan="{{ t.columns|length }}">No rows.</td></tr>{% endif %}
</tbody></table></div>
{%- if t.note %}<p class="note">{{ t.note }}</p>{% endif %}
{%- endmacro %}
""",
    "page.html": """<!doctype html>
{%- from "macros.html" import cell, table %}
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="Fireline">
<title>{{ page.title }}</title>
<style>{{ css|safe }}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the figures</a>
<header>
<h1>{{ page.title }}</h1>
<p class="scope" id="scope">{{ page.scope_text }}</p>
{%- if page.back %}<p><a href="{{ page.back }}">← Back to the overview</a></p>{% endif %}
</header>
{%- if page.filters %}
{%- set f = page.filters %}
<form class="filters" method="get" action="/" role="search" aria-label="Filters">
<label for="f-team">Team<select id="f-team" name="team"><option value="">All teams</option>
{%- for o in f.teams %}<option value="{{ o.value }}"{% if o.selected %} selected{% endif %}>{{ o.label }}</option>
{%- endfor %}</select></label>
<label for="f-service">Service<select id="f-service" name="service"><option value="">All services</option>
{%- for o in f.services %}<option value="{{ o.value }}"{% if o.selected %} selected{% endif %}>{{ o.label }}</option>
{%- endfor %}</select></label>
<label for="f-since">From<input id="f-since" name="since" type="text" size="16" value="{{ f.since }}"
 placeholder="2026-01-31" aria-describedby="f-dates"></label>
<label for="f-until">To<input id="f-until" name="until" type="text" size="16" value="{{ f.until }}"
 placeholder="2026-03-31" aria-describedby="f-dates"></label>
<p id="f-dates" class="hint">Dates in {{ f.timezone }} (the To date is included), or ISO times such as
2026-01-05T00:00Z.</p>
<label for="f-profile">Tier profile<select id="f-profile" name="profile">
{%- for o in f.profiles %}<option value="{{ o.value }}"{% if o.selected %} selected{% endif %}>{{ o.label }}</option>
{%- endfor %}</select></label>
<button type="submit">Apply</button>
</form>
{%- endif %}
{%- if page.error %}<div class="error" role="alert">{{ page.error }}</div>{% endif %}
{%- if page.nav and page.sections|length > 1 %}
<nav class="toc" aria-label="Sections"><ul>
{%- for s in page.sections %}<li><a href="#{{ s.id }}">{{ s.title }}</a></li>{% endfor %}
</ul></nav>
{%- endif %}
<main id="main">
{%- if not page.sections and not page.error %}
<p>No data in this window yet. Ingest git history, deployments or incidents (see <code>fireline ingest --help</code>),
or widen the window.</p>
{%- endif %}
{%- for s in page.sections %}
<section id="{{ s.id }}" aria-labelledby="{{ s.id }}-h">
<h2 id="{{ s.id }}-h">{{ s.title }}</h2>
<p class="lead">{{ s.lead }}</p>
{%- if s.verdict %}<p class="verdict" role="note"><strong>Warning:</strong> {{ s.verdict }}</p>{% endif %}
{%- if s.figures %}
<dl class="figures">
{%- for fig in s.figures %}
<div class="figure"><dt>{{ fig.label }}</dt><dd class="big">{{ cell(fig.cell) }}</dd>
{%- if fig.detail %}<dd class="detail">{{ fig.detail }}</dd>{% endif %}</div>
{%- endfor %}
</dl>
{%- endif %}
{%- if s.charts %}<div class="charts">
{%- for ch in s.charts %}
<figure class="chart" id="{{ ch.id }}">
<figcaption>{{ ch.title }}</figcaption>
{{ page.svgs[ch.id]|safe }}
<details><summary>Data behind this chart</summary>
<div class="table-wrap" role="region" aria-label="Data: {{ ch.title }}" tabindex="0">
<table><caption>{{ ch.title }}</caption><thead><tr>{% for c in ch.columns %}<th scope="col">{{ c }}</th>
{%- endfor %}</tr></thead><tbody>{% for row in ch.rows %}<tr>{% for v in row %}
{%- if loop.first %}<th scope="row">{{ v }}</th>{% else %}<td class="num">{{ v }}</td>{% endif %}
{%- endfor %}</tr>{% endfor %}</tbody></table></div></details>
</figure>
{%- endfor %}
</div>{% endif %}
{%- for t in s.tables %}{{ table(t) }}{% endfor %}
{%- for d in s.drilldowns %}
{%- set n = d.table.rows|length %}
<details class="drill" id="{{ d.id }}"><summary>{{ d.title }} ({{ n }} row{{ "" if n == 1 else "s" }})</summary>
{{ table(d.table) }}
</details>
{%- endfor %}
{%- for n in s.notes %}<p class="note">{{ n }}</p>{% endfor %}
</section>
{%- endfor %}
</main>
<footer>{{ page.footer }}</footer>
<script>
// A link to a folded drill-down opens it.
function fireOpen(){var id=decodeURIComponent(location.hash.slice(1));var t=id&&document.getElementById(id);
if(t&&t.tagName==="DETAILS"){t.open=true;t.scrollIntoView();}}
window.addEventListener("hashchange",fireOpen);fireOpen();
</script>
</body>
</html>
""",
}

_ENV = Environment(loader=DictLoader(TEMPLATES), autoescape=select_autoescape(default=True, default_for_string=True),
                   trim_blocks=False, lstrip_blocks=False)


def render(page: Page, svgs: Mapping[str, str] | None = None) -> str:
    """`svgs`: charts already drawn, by id (app/report/drawing.py); the others are drawn here."""
    drawn = svgs or {}
    svgs = {ch.id: drawn[ch.id] if ch.id in drawn else to_svg(ch) for s in page.sections for ch in s.charts}
    page.svgs = svgs
    return _ENV.get_template("page.html").render(page=page, css=CSS, csp=CSP)
