"""The demo organisation's repositories, each with the builder that plans its history."""

from __future__ import annotations

from collections.abc import Callable

from ..workshop import Workshop
from . import data_platform, platform_infra, pricing_engine, web_ui
from .building_blocks import Deploy

# build_world seeds each repository by its place in this order.
REPOS: dict[str, Callable[[Workshop, list[Deploy]], None]] = {
    "platform-infra": platform_infra.plan,
    "data-platform": data_platform.plan,
    "web-ui": web_ui.plan,
    "pricing-engine": pricing_engine.plan,
}
