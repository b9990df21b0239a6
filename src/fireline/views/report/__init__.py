"""A report page as HTML: the page types sections are made of (``model``) and their rendering
(``html``: templates, CSS, charts as inline SVG). Pages are assembled in fireline.app.report."""

from .html import Filters, Option, Page, render
from .model import AnchorLinks, Cell, Drilldown, Figure, Links, PageLinks, Section, Table, drill_id

__all__ = ["AnchorLinks", "Cell", "Drilldown", "Figure", "Filters", "Links", "Option", "Page", "PageLinks",
           "Section", "Table", "drill_id", "render"]
