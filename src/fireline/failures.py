"""Raw events that failed to normalise: which, and a second try after a fix.

A failed event keeps its raw row, with `normalised` set and the error beside it, so the
queue goes on without it. Webhook events go back to the normaliser's queue; events read
from files (deployments, incidents, flags) are re-derived by a rebuild, as after any
parser fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ingest, normalise
from .config import Config
from .errors import UserError
from .normalise import FailedEvent, failed_events
from .store import Store

__all__ = ["FailedEvent", "RetryOutcome", "failed_events", "retry"]


@dataclass(frozen=True)
class RetryOutcome:
    retried: int
    normalised: int
    still_failing: int

    def as_dict(self) -> dict[str, int]:
        return {"retried": self.retried, "normalised": self.normalised, "still_failing": self.still_failing}


def retry(store: Store, config: Config, delivery_ids: list[str] | None = None) -> RetryOutcome:
    """Retry the failed events with these delivery ids (all failed events when None)."""
    failed = failed_events(store)
    if delivery_ids is not None:
        known = {e.delivery_id for e in failed}
        unknown = [i for i in delivery_ids if i not in known]
        if unknown:
            raise UserError(f"no failed event with id {', '.join(map(repr, unknown))} "
                            "(fireline events failed lists them)", where="ID")
        wanted = set(delivery_ids)
        failed = [e for e in failed if e.delivery_id in wanted]
    keys = {(e.source, e.delivery_id) for e in failed}
    webhooks = [k for k in keys if k[0] in normalise.WEBHOOK_SOURCES]
    if webhooks:
        normalise.retry(store, webhooks)
        while normalise.normalise_pending(store, config):
            pass
    if len(webhooks) < len(keys):
        ingest.rebuild(store, config)
    still = sum(1 for e in failed_events(store) if (e.source, e.delivery_id) in keys)
    return RetryOutcome(len(keys), len(keys) - still, still)
