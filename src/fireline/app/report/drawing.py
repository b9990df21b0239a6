"""Charts drawn while the page is still being computed.

Drawing a chart (vl-convert: Vega in a JavaScript runtime) releases the GIL, so the charts of a section
can be drawn in a thread while the next sections compute their figures: a page costs its figures plus
what is left to draw, not the sum. The HTML is the same as when `render` draws them itself.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from ...views.report.model import Section

DRAWERS = 2  # threads drawing; vl-convert draws two charts at once about 1.5 times as fast as one


class Drawing:
    """`draw(section)` as each section is made (report_page's `on_section`), then `svgs()` for `render`."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=DRAWERS, thread_name_prefix="fireline-charts")
        self._svgs: dict[str, Future[str]] = {}

    def draw(self, section: Section) -> None:
        from ...views.charts import to_svg

        for chart in section.charts:
            self._svgs[chart.id] = self._pool.submit(to_svg, chart)

    def svgs(self) -> dict[str, str]:
        """Every chart drawn so far, by id (an error drawing one is raised here, as `render` would)."""
        return {chart_id: future.result() for chart_id, future in self._svgs.items()}

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
