"""After the crashes: is every acknowledged event in the store exactly once, and normalised?

Read with the store's own API (the server must be stopped first: a DuckDB file has one
writer). The primary keys already forbid two rows with one key, so "duplicated" also
counts what a key cannot catch: rows with delivery or deployment ids nobody sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from fireline.store import Store


@dataclass(frozen=True)
class Verdict:
    sent: int
    raw_rows: int
    lost: int  # sent, but no raw event with its delivery id
    duplicated: int  # raw rows beyond one per delivery id, or with ids never sent
    not_normalised: int  # raw events the normaliser has not marked done
    normalise_errors: int  # raw events the normaliser refused (error is set)
    deployments: int
    missing_deployments: int
    extra_deployments: int

    @property
    def ok(self) -> bool:
        return (self.raw_rows == self.sent == self.deployments and not self.lost and not self.duplicated
                and not self.not_normalised and not self.normalise_errors and not self.missing_deployments
                and not self.extra_deployments)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def check_store(url: str, delivery_ids: Iterable[str], deployment_ids: Iterable[str]) -> Verdict:
    sent, expected_deps = set(delivery_ids), set(deployment_ids)
    store = Store.open(url, create=False)
    try:
        rows = store.query("SELECT delivery_id, coalesce(normalised, FALSE), error FROM raw_events "
                           "WHERE source = 'github'")
        deps = Counter(r[0] for r in store.query("SELECT id FROM deployments WHERE source = 'github'"))
    finally:
        store.close()
    per_id = Counter(r[0] for r in rows)
    repeated = sum(c - 1 for c in per_id.values())
    unknown = sum(c for d, c in per_id.items() if d not in sent)
    return Verdict(
        sent=len(sent), raw_rows=len(rows), lost=len(sent - set(per_id)), duplicated=repeated + unknown,
        not_normalised=sum(1 for r in rows if not r[1]), normalise_errors=sum(1 for r in rows if r[2]),
        deployments=sum(deps.values()), missing_deployments=len(expected_deps - set(deps)),
        extra_deployments=sum(deps.values()) - len(expected_deps & set(deps)),
    )
