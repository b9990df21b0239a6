"""The demo organisation behind ``fireline demo``: four teams, six months of history, one story.

- ``runner``: ``fireline demo`` itself: build the world, ingest it, summarise it.
- ``world``: ``build_world``, which writes the repositories, the deployments and incidents
  files and ``fireline.toml``.
- ``repos``: one history builder per team repository; ``incidents``: the story's incidents;
  ``people`` and ``dates``: its cast, time zones and fixed dates.
- ``workshop``, ``ordinary_work`` and ``fastimport``: the machinery that writes git history.
"""

from .runner import DemoResult, run
from .world import World, build_world

__all__ = ["DemoResult", "World", "build_world", "run"]
